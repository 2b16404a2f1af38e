#!/usr/bin/env node
// The `meshcode` binary: loads the TypeScript sources through tsx (no build step), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
