// Test helper run as a child process: one credential-store operation per process, result as one JSON line on stdout.
// Usage: node --import tsx store-child.ts <get|set|delete|where> <hubUrl> [key]   (MESHCODE_HOME names the home)
import { createCredentialStore } from '../store';

const [op, hubUrl = '', key = ''] = process.argv.slice(2);
const home = process.env.MESHCODE_HOME;
if (home === undefined) throw new Error('MESHCODE_HOME must be set for the store child');
const store = createCredentialStore({ home, env: process.env });

async function run(): Promise<unknown> {
  switch (op) {
    case 'get':
      return await store.get(hubUrl);
    case 'set':
      return await store.set(hubUrl, key);
    case 'delete':
      return await store.delete(hubUrl);
    case 'where':
      return await store.where(hubUrl);
    default:
      throw new Error(`unknown op ${op ?? ''}`);
  }
}

run().then(
  (result) => process.stdout.write(`${JSON.stringify({ op, result })}\n`),
  (err: unknown) => {
    process.stdout.write(`${JSON.stringify({ op, error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exitCode = 1;
  },
);
