// Presence for long-polls answered straight from a delivery: the agent is "working" now, but writing that must not
// delay the answer, nor compete with the next answers. Marks are gathered for PRESENCE_DELAY_MS and written in one
// statement (mesh.mark_delivered), one batch at a time; the status change then reaches live feeds like any other.
// An agent whose next wait has already read past the message by then was never seen working: mesh.mark_delivered
// skips it, so an agent that answers nothing and waits again at once costs no status flip, no activity row and no feed
// update (a broadcast to 1,000 such agents used to write 2,000 status changes: working, then waiting again).
import type { Db } from '@meshcode/db';
import type { Signals } from './signals';

/** How long marks gather before they are written: well under what a person watching the status board can see. */
export const PRESENCE_DELAY_MS = 150;

export class DeliveredMarks {
  private pending = new Map<string, number>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private answered = 0;
  private sent = 0;

  constructor(
    private readonly db: Db,
    private readonly signals: Signals,
    private readonly log: (line: string) => void,
  ) {}

  mark(agentId: string, seq: number): void {
    this.answered++;
    const had = this.pending.get(agentId);
    if (had === undefined || had < seq) this.pending.set(agentId, seq);
    if (!this.running) this.schedule();
  }

  /**
   * The agent's wait has read its inbox past `cursor` (and acknowledged it): a pending mark at or below that is moot,
   * since the agent was not seen working, and mesh.mark_delivered would skip it.
   */
  acked(agentId: string, cursor: number): void {
    const seq = this.pending.get(agentId);
    if (seq !== undefined && seq <= cursor) this.pending.delete(agentId);
  }

  /** Long-polls answered from a delivery so far. */
  get count(): number {
    return this.answered;
  }

  /** Marks handed to mesh.mark_delivered so far (one per agent per write). */
  get written(): number {
    return this.sent;
  }

  /** Writes every mark made so far now, without waiting out the delay, and resolves once written (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running || this.timer) {
      if (this.timer) this.start();
      await this.running;
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.start(), PRESENCE_DELAY_MS);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size > 0) this.running = this.drain();
  }

  private async drain(): Promise<void> {
    const items = [...this.pending].map(([agent_id, seq]) => ({ agent_id, seq }));
    this.pending.clear();
    this.sent += items.length;
    try {
      const res = await this.db.query<{ r: string | null }>('select mesh.mark_delivered($1::jsonb) as r', [
        JSON.stringify(items),
      ]);
      this.signals.publish({ changed: res.rows[0]?.r });
    } catch (err) {
      // Presence only: the agent's next wait or heartbeat sets it again.
      this.log(`hub: presence after delivery failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.running = null;
      // Marks made meanwhile gather for their own delay.
      if (this.pending.size > 0) this.schedule();
    }
  }
}
