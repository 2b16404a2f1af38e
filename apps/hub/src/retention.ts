// Retention: the hub prunes, in the background and in small batches, what projects keep for a limited time
// (mesh.prune: activity, messages every recipient has acknowledged, finished tasks and settled pipeline events). One
// hub at a time does it.
import type { Db } from '@meshcode/db';
import { hubCall } from './http/errors';

/** Rows of each kind one batch deletes at most; a turn runs batches until one finds less to do. */
const BATCH = 2_000;
const MAX_BATCHES = 50;
const FIRST_TURN_MS = 1_000;

export interface Pruner {
  stop(): Promise<void>;
}

export function startPruner(db: Db, intervalMs: number, log: (line: string) => void): Pruner {
  let running: Promise<void> | null = null;
  let stopped = false;
  const turn = async () => {
    for (let i = 0; i < MAX_BATCHES && !stopped; i++) {
      const r = await hubCall<Record<string, number | boolean>>(db, 'select mesh.prune($1) as r', [BATCH]);
      // Another batch only while some kind filled this one.
      if (!Object.values(r).some((n) => typeof n === 'number' && n >= BATCH)) return;
    }
  };
  const tick = () => {
    if (running || stopped) return;
    running = turn()
      .catch((err: unknown) => log(`hub: pruning failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        running = null;
      });
  };
  // A first turn soon after start, so that a hub restarted more often than the interval still prunes.
  const first = setTimeout(tick, Math.min(intervalMs, FIRST_TURN_MS));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
