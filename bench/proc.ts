// What a benchmark reads of a process from /proc.
import { readFileSync } from 'node:fs';

/** Resident set size of a process, in bytes (NaN if /proc does not say). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}
