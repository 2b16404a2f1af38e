export {
  EDITORS,
  EDITOR_IDS,
  editorById,
  type ConfigFormat,
  type EditorId,
  type EditorPaths,
  type EditorSpec,
} from './table';
export { meshcodeServerEntry, SERVER_NAME, type MeshcodeEntryInput, type ServerEntry } from './entry';
export {
  editorConfigPath,
  readServerEntry,
  removeEditorConfig,
  writeEditorConfig,
  type ConfigChange,
  type WriteEditorConfigOptions,
} from './config';
export {
  createPathLookup,
  detectEditors,
  resolveEditor,
  type DetectedEditor,
  type DetectEditorsOptions,
  type PathLookup,
} from './detect';
export {
  launchEditor,
  launchPlan,
  type LaunchInput,
  type LaunchOptions,
  type LaunchPlan,
  type LaunchResult,
} from './launch';
export { instructionsFor, type InstructionsInput } from './instructions';
export { EditorConfigError, type EditorErrorCode } from './errors';
