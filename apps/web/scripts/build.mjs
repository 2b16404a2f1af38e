// Builds the dashboard's static export into apps/web/dist (served by the hub).
//   node apps/web/scripts/build.mjs             build now
//   node apps/web/scripts/build.mjs --if-stale  skip when dist was built from the same sources (used by `prepare`)
//   --soft                                      never fail: print the error and exit 0 (npm install must not break)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(web, 'dist');
const stamp = join(dist, '.source-hash');
const args = new Set(process.argv.slice(2));

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** Everything the export depends on: our sources and config, and the installed Next/React versions. */
function sourceHash() {
  const h = createHash('sha256');
  const inputs = [
    ...files(join(web, 'src')),
    ...files(join(web, 'public')),
    join(web, 'next.config.ts'),
    join(web, 'package.json'),
  ].sort();
  for (const f of inputs) h.update(relative(web, f)).update('\0').update(readFileSync(f)).update('\0');
  const require = createRequire(join(web, 'package.json'));
  for (const dep of ['next', 'react', 'react-dom', '@xyflow/react', '@tanstack/react-query']) {
    try {
      h.update(`${dep}@${JSON.parse(readFileSync(require.resolve(`${dep}/package.json`), 'utf8')).version}\0`);
    } catch {
      h.update(`${dep}@missing\0`);
    }
  }
  return h.digest('hex');
}

function fail(message) {
  if (args.has('--soft')) {
    process.stderr.write(
      `meshcode: the dashboard was not built (${message}); the hub still runs — build it with npm run build:web\n`,
    );
    process.exit(0);
  }
  process.stderr.write(`meshcode: dashboard build failed: ${message}\n`);
  process.exit(1);
}

let nextBin;
try {
  nextBin = createRequire(join(web, 'package.json')).resolve('next/dist/bin/next');
} catch {
  fail('Next.js is not installed; run npm install first');
}

const hash = sourceHash();
if (
  args.has('--if-stale') &&
  existsSync(join(dist, 'index.html')) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8') === hash
) {
  process.stderr.write('meshcode: dashboard is up to date (apps/web/dist)\n');
  process.exit(0);
}

process.stderr.write('meshcode: building the dashboard (apps/web -> apps/web/dist; about a minute on 2 cores)...\n');
const started = Date.now();
const child = spawn(process.execPath, [nextBin, 'build'], {
  cwd: web,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
});
child.on('exit', (code, signal) => {
  // Next writes this file on every build; our own src/next-types.d.ts carries its references instead.
  rmSync(join(web, 'next-env.d.ts'), { force: true });
  if (code !== 0) fail(signal ? `next build was stopped by ${signal}` : `next build exited with ${code}`);
  if (!existsSync(join(dist, 'index.html')) || !statSync(join(dist, 'index.html')).isFile())
    fail('next build produced no dist/index.html');
  writeFileSync(stamp, hash);
  process.stderr.write(`meshcode: dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
