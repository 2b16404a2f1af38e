// Typed, expected failures of the editor-config library: each message is one sentence with the fix.
export type EditorErrorCode =
  'malformed' | 'unsupported_shape' | 'secret_in_entry' | 'unknown_editor' | 'not_launchable' | 'launch_failed' | 'io';

export class EditorConfigError extends Error {
  override readonly name = 'EditorConfigError';
  constructor(
    readonly code: EditorErrorCode,
    message: string,
  ) {
    super(message);
  }
}
