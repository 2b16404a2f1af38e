// In-process registry of long-polls waiting on an agent's inbox. Holds no DB connection: a waiter is a callback.
import { LRUCache } from 'lru-cache';
import type { Delivery } from './notes';

/** Called on a wake-up: with the messages committed to this agent's inbox when the hub has them, else without. */
export type Wake = (deliveries?: Delivery[]) => void;

/** Offered by a sleeping waiting claim: take a task claimed for its worker elsewhere; false if it cannot now. */
export type Take = (claim: unknown) => boolean;

const MAX_HINTS = 100_000;

/** Add to the set under a key; the returned function removes it again (and the set once empty). */
function addTo<T>(map: Map<string, Set<T>>, key: string, item: T): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(item);
  return () => {
    const s = map.get(key);
    if (!s) return;
    s.delete(item);
    if (s.size === 0) map.delete(key);
  };
}

export class Waiters {
  private readonly byAgent = new Map<string, Set<Wake>>();
  private readonly hints = new LRUCache<string, string>({ max: MAX_HINTS });
  private readonly takers = new Map<string, Set<Take>>();
  private revocations = 0;
  private sleepers = 0;

  /** Long-polls that have read their inbox and sleep until a wake-up (the rest are still reading). */
  get asleep(): number {
    return this.sleepers;
  }

  /** Brackets a long-poll's sleep (for /health: how many waits are ready to be answered). */
  sleeping(delta: 1 | -1): void {
    this.sleepers += delta;
  }

  /** The agent id a caller's previous wait resolved to (a hint only: the first read says which agent it really is). */
  hint(key: string): string | undefined {
    return this.hints.get(key);
  }

  remember(key: string, agentId: string): void {
    this.hints.set(key, agentId);
  }

  /** Register before the catch-up query (no lost wake-up); call the returned function to unregister. */
  register(agentId: string, wake: Wake): () => void {
    return addTo(this.byAgent, agentId, wake);
  }

  /** A waiting claim, while it sleeps, offers to take a task claimed for its worker; returns the withdrawal. */
  offerTake(agentId: string, take: Take): () => void {
    return addTo(this.takers, agentId, take);
  }

  /** Workers with a waiting claim asleep here: a delivery's transaction may claim their tasks for them. */
  takersOf(agentIds: Iterable<string>): string[] {
    return [...new Set(agentIds)].filter((id) => this.takers.has(id));
  }

  /** Hand a claim to one of the worker's sleeping waiting claims; false when none takes it. */
  hand(agentId: string, claim: unknown): boolean {
    for (const take of [...(this.takers.get(agentId) ?? [])]) if (take(claim)) return true;
    return false;
  }

  wake(agentIds: Iterable<string>, deliver?: ReadonlyMap<string, Delivery[]>): number {
    let woken = 0;
    for (const id of agentIds) {
      const set = this.byAgent.get(id);
      if (!set) continue;
      const deliveries = deliver?.get(id);
      for (const fn of [...set]) {
        fn(deliveries);
        woken++;
      }
    }
    return woken;
  }

  /**
   * A credential may have ended: every held wait re-reads through the key check. A wait may take messages from a
   * delivery (skipping that check) only while no revocation happened since its key was last checked.
   */
  revoke(): void {
    this.revocations++;
    this.wake(this.heldAgents());
  }

  /** Count of revocations seen; compare before and after to know whether one happened in between. */
  get epoch(): number {
    return this.revocations;
  }

  /** Agents that currently have a long-poll held here (kept "seen" by the presence refresher). */
  heldAgents(): string[] {
    return [...this.byAgent.keys()];
  }

  get size(): number {
    let n = 0;
    for (const s of this.byAgent.values()) n += s.size;
    return n;
  }
}
