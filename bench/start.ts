// Embedded hub start benchmark (prints figures; asserts nothing): the hub's memory (RSS) and time to listening, on
// its first start (the database is created and migrated) and on the next start on the same data. Runs `npm start`'s
// hub as a child process on a fresh MESHCODE_HOME each round. Usage: npm run bench:start [-- --rounds N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnHub } from '../apps/hub/src/testing/hub-process';
import { rssOf } from './proc';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, settle: { type: 'string', default: '3000' } },
});
const rounds = Number(values.rounds);
const settleMs = Number(values.settle);

interface Start {
  rss: number;
  readyMs: number;
}

/** Starts the hub on home, waits until it listens and has settled, reads its RSS, stops it. */
async function start(home: string): Promise<Start> {
  const hub = await spawnHub({ MESHCODE_HOME: home }, undefined, { unset: ['DATABASE_URL'] });
  try {
    const ready = /ready in (\d+) ms/.exec(hub.output());
    await new Promise((r) => setTimeout(r, settleMs));
    return { rss: rssOf(hub.child.pid!), readyMs: ready ? Number(ready[1]) : NaN };
  } finally {
    await hub.kill();
  }
}

function summary(label: string, xs: Start[]): string {
  const mib = xs.map((x) => x.rss / 2 ** 20).sort((a, b) => a - b);
  const ms = xs.map((x) => x.readyMs).sort((a, b) => a - b);
  const mid = (v: number[]) => v[v.length >> 1]!;
  return (
    `${label.padEnd(28)}RSS p50 ${mid(mib).toFixed(0)} MiB (${mib[0]!.toFixed(0)}–${mib.at(-1)!.toFixed(0)})   ` +
    `ready p50 ${mid(ms)} ms (${ms[0]}–${ms.at(-1)})`
  );
}

const first: Start[] = [];
const next: Start[] = [];
for (let i = 0; i < rounds; i++) {
  const home = mkdtempSync(join(tmpdir(), 'meshcode-bench-start-'));
  try {
    first.push(await start(home));
    next.push(await start(home));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
process.stdout.write(
  `\n## embedded hub start — PGlite (${rounds} rounds, RSS read ${settleMs / 1000} s after listening)\n` +
    `${summary('first start (new database)', first)}\n${summary('next start (same data)', next)}\n`,
);
