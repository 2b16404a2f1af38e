#!/usr/bin/env node
// The `meshcode` binary: loads the TypeScript sources through tsx (no build step), then runs the CLI.
import { register } from 'tsx/esm/api';

// supabase-js warns on every start under Node 20; MeshCode supports Node 20.19+ (the README recommends 22), so that
// one line would only be noise in every command's output and in every editor's MCP log.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('Node.js 20 and below are deprecated')) return;
  warn(...args);
};

register();
await import('../src/main.ts');
