export * from './errors';
export * from './keys';
export * from './schemas';

/** Default hub address the CLI, SDK and configs use when nothing else is set. */
export const DEFAULT_HUB_URL = 'http://localhost:7700';
/** Longest long-poll the hub holds, in seconds. */
export const MAX_WAIT_SECONDS = 300;
