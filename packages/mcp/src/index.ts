export { createServer, SERVER_NAME, SERVER_VERSION, type CreateServerOptions, type MeshcodeServer } from './server';
export { runStdio, type RunStdioOptions } from './stdio';
export { AgentSession, type SessionState } from './session';
export { buildInstructions } from './instructions';
export { ALL_TOOLS, TOOL_NAMES } from './tools';
