// Run a pgTAP file with psql (as pg_prove does) and read its TAP output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { PgClusterInfo } from './context';

export interface TapResult {
  planned: number | null;
  passed: number;
  /** Failed assertions with their diagnostics, e.g. `not ok 3 - anon cannot read agents\n# have: ...`. */
  failures: string[];
  /** Why the file as a whole failed (SQL error, missing or broken plan), if it did. */
  problems: string[];
  output: string;
}

/** Parse TAP 13 as pgTAP prints it; `not ok ... # TODO` does not count as a failure. */
export function parseTap(output: string): Omit<TapResult, 'problems' | 'output'> & { count: number } {
  let planned: number | null = null;
  let passed = 0;
  let count = 0;
  const failures: string[] = [];
  let current: string[] | null = null;
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    const plan = /^1\.\.(\d+)/.exec(line);
    const result = /^(not )?ok\b\s*(\d+)?(.*)$/.exec(line);
    if (plan) {
      planned = Number(plan[1]);
      current = null;
    } else if (result) {
      count += 1;
      const todo = /#\s*(TODO|SKIP)\b/i.test(result[3] ?? '');
      if (result[1] && !todo) {
        current = [line];
        failures.push('');
      } else {
        if (!result[1]) passed += 1;
        current = null;
      }
    } else if (line.startsWith('#') && current) {
      current.push(line);
    }
    if (current) failures[failures.length - 1] = current.join('\n');
  }
  return { planned, passed, count, failures };
}

export function runPgTapFile(info: PgClusterInfo, database: string, file: string): Promise<TapResult> {
  const args = [
    ...['-h', info.host, '-p', String(info.port), '-U', info.user, '-d', database],
    ...['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-P', 'pager=off', '-f', file],
  ];
  return new Promise((resolve) => {
    execFile(
      join(info.binDir, 'psql'),
      args,
      { encoding: 'utf8', env: { PGCONNECT_TIMEOUT: '10', PGSSLMODE: 'disable' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const tap = parseTap(stdout);
        const problems: string[] = [];
        if (error) problems.push(`psql stopped: ${stderr.trim() || error.message}`);
        if (tap.planned === null) problems.push('no plan: the file must call select plan(n)');
        else if (tap.planned !== tap.count) problems.push(`planned ${tap.planned} tests but ran ${tap.count}`);
        resolve({ planned: tap.planned, passed: tap.passed, failures: tap.failures, problems, output: stdout });
      },
    );
  });
}
