// Presence for long-polls answered straight from a delivery: the agent is "working" now, but writing that must not
// delay the answer. Marks are gathered per event-loop turn and written in one statement (mesh.mark_delivered), one
// batch at a time; the status change then reaches live feeds like any other.
import type { Db } from '@meshcode/db';
import type { Signals } from './signals';

export class DeliveredMarks {
  private pending = new Map<string, number>();
  private running: Promise<void> | null = null;
  private scheduled = false;
  private answered = 0;

  constructor(
    private readonly db: Db,
    private readonly signals: Signals,
    private readonly log: (line: string) => void,
  ) {}

  mark(agentId: string, seq: number): void {
    this.answered++;
    const had = this.pending.get(agentId);
    if (had === undefined || had < seq) this.pending.set(agentId, seq);
    if (!this.scheduled && !this.running) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.running = this.drain();
      });
    }
  }

  /** Long-polls answered from a delivery so far. */
  get count(): number {
    return this.answered;
  }

  /** Resolves once every mark made so far is written (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running || this.scheduled) await (this.running ?? new Promise((r) => setImmediate(r)));
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const items = [...this.pending].map(([agent_id, seq]) => ({ agent_id, seq }));
        this.pending.clear();
        try {
          const res = await this.db.query<{ r: string | null }>('select mesh.mark_delivered($1::jsonb) as r', [
            JSON.stringify(items),
          ]);
          this.signals.publish({ changed: res.rows[0]?.r });
        } catch (err) {
          // Presence only: the agent's next wait or heartbeat sets it again.
          this.log(`hub: presence after delivery failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      this.running = null;
    }
  }
}
