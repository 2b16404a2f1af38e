// In-process registry of long-polls waiting on an agent's inbox. Holds no DB connection: a waiter is a callback.
export class Waiters {
  private readonly byAgent = new Map<string, Set<() => void>>();

  /** Register before the catch-up query (no lost wake-up); call the returned function to unregister. */
  register(agentId: string, wake: () => void): () => void {
    let set = this.byAgent.get(agentId);
    if (!set) {
      set = new Set();
      this.byAgent.set(agentId, set);
    }
    set.add(wake);
    return () => {
      const s = this.byAgent.get(agentId);
      if (!s) return;
      s.delete(wake);
      if (s.size === 0) this.byAgent.delete(agentId);
    };
  }

  wake(agentIds: Iterable<string>): number {
    let woken = 0;
    for (const id of agentIds) {
      const set = this.byAgent.get(id);
      if (!set) continue;
      for (const fn of [...set]) {
        fn();
        woken++;
      }
    }
    return woken;
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
