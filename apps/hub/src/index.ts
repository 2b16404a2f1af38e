export { createHub, HUB_VERSION, type Hub, type HubOptions } from './hub';
export { loadHubEnv, type HubEnv } from './env';
export { startHub, type RunningHub } from './start';
export { hashKey } from './auth';
