export {
  MeshClient,
  createMeshClient,
  createSupabase,
  signup,
  toMeshError,
  networkError,
  type MeshClientOptions,
  type SendInput,
  type TaskUpdate,
} from './client';
export {
  Inbox,
  fileCursorStore,
  memoryCursorStore,
  withRetry,
  isTransient,
  type CursorStore,
  type InboxOptions,
} from './inbox';
export { subscribeActivity, type FeedHandlers, type FeedOptions } from './sse';
export * from './teams';
export { MeshError } from '@meshcode/protocol';
