// Cross-hub signals. After a commit the hub wakes its own waiters at once (handing them the committed messages);
// other hubs on the same database learn through one NOTIFY channel, sent outside the message transaction and
// coalesced: the first goes out once this turn's answers are written (so it does not compete with them), and while one
// is in flight, later wake-ups accumulate and go out together in the next. Deliveries stay local (other hubs' waiters
// re-read their inbox); wake-ups, changed feeds and revocations cross.
import { randomUUID } from 'node:crypto';
import type { Db } from '@meshcode/db';
import { parseNotes, type Notes, type RawNotes } from './notes';

export const CHANNEL = 'meshcode_signals';
const MAX_PAYLOAD = 7800; // NOTIFY payloads must stay under 8000 bytes

export interface SignalHandlers {
  wake(agentIds: string[], deliver?: Notes['deliver']): void;
  changed(meshworkIds: string[]): void;
  /** A credential may have ended somewhere: re-check every held long-poll. */
  revoked(): void;
  /** Notifications may have been missed (the LISTEN connection dropped): re-check everything held. */
  resync(): void;
}

export class Signals {
  readonly hubId = randomUUID().slice(0, 8);
  private pendingWake = new Set<string>();
  private pendingChanged = new Set<string>();
  private pendingRevoked = false;
  private inFlight: Promise<void> | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Db,
    private readonly local: SignalHandlers,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Only a shared PostgreSQL can have other hubs; embedded PGlite is one process. */
  get crossHub(): boolean {
    return this.db.kind === 'postgres';
  }

  async start(): Promise<void> {
    if (!this.crossHub) return;
    this.unlisten = await this.db.listen(CHANNEL, (payload) => this.receive(payload), {
      onReconnect: () => this.local.resync(),
    });
  }

  async stop(): Promise<void> {
    await this.inFlight;
    await this.unlisten?.();
    this.unlisten = null;
  }

  /** Called with what a transaction noted (mesh.call_as, mesh.hub_result and the like), after it committed. */
  publish(raw: RawNotes): void {
    if (!raw.wake && !raw.changed && !raw.revoked) return;
    const { wake, changed, deliver, revoked } = parseNotes(raw);
    if (revoked) this.local.revoked();
    if (wake.length) this.local.wake(wake, deliver);
    if (changed.length) this.local.changed(changed);
    if (!this.crossHub) return;
    for (const id of wake) this.pendingWake.add(id);
    for (const id of changed) this.pendingChanged.add(id);
    if (revoked) this.pendingRevoked = true;
    if (!this.inFlight) this.inFlight = this.flush();
  }

  private async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.pendingWake.size || this.pendingChanged.size || this.pendingRevoked) {
        const wake = [...this.pendingWake];
        const changed = [...this.pendingChanged];
        const revoked = this.pendingRevoked;
        this.pendingWake.clear();
        this.pendingChanged.clear();
        this.pendingRevoked = false;
        for (const payload of this.encode(wake, changed, revoked)) {
          await this.db.notify(CHANNEL, payload);
        }
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.inFlight = null;
    }
  }

  private encode(wake: string[], changed: string[], revoked: boolean): string[] {
    const out: string[] = [];
    let w: string[] = [];
    let c: string[] = [];
    let r = revoked;
    let size = 0;
    const emit = () => {
      if (w.length || c.length || r) out.push(`${this.hubId}|${w.join(',')}|${c.join(',')}|${r ? 'r' : ''}`);
      r = false;
      w = [];
      c = [];
      size = 0;
    };
    for (const id of wake) {
      if (size + id.length + 1 > MAX_PAYLOAD) emit();
      w.push(id);
      size += id.length + 1;
    }
    for (const id of changed) {
      if (size + id.length + 1 > MAX_PAYLOAD) emit();
      c.push(id);
      size += id.length + 1;
    }
    emit();
    return out;
  }

  private receive(payload: string): void {
    const [from, wake = '', changed = '', revoked = ''] = payload.split('|');
    if (from === this.hubId) return;
    const w = wake ? wake.split(',') : [];
    const c = changed ? changed.split(',') : [];
    if (revoked === 'r') this.local.revoked();
    if (w.length) this.local.wake(w);
    if (c.length) this.local.changed(c);
  }
}
