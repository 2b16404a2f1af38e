// The agent's live session on the hub: the split-brain lock (mc_connect), the heartbeat, and the release on exit.
// One window per agent: a second window is refused until the first closes, unless it takes over with --force.
import { MeshError, type Connected } from '@meshcode/protocol';
import type { MeshClient } from '@meshcode/client';

export type SessionState =
  /** Not connected yet because the hub was unreachable; the next tool call or heartbeat tries again. */
  | { kind: 'pending'; sentence: string }
  | { kind: 'live'; connected: Connected }
  /** Another window holds the agent; the next tool call or heartbeat tries again (it may have closed). */
  | { kind: 'refused'; sentence: string }
  /** Another window took the agent with --force; this window stops acting as the agent. */
  | { kind: 'taken_over'; sentence: string }
  | { kind: 'closed' };

export interface AgentSessionOptions {
  meshwork: string;
  agent: string;
  session: string;
  host?: string;
  force?: boolean;
  heartbeatMs?: number;
  log(line: string): void;
  /** Called once when the session is lost to another window or closed, to stop in-flight waits. */
  onLost(): void;
}

export class AgentSession {
  private current: SessionState = { kind: 'pending', sentence: 'not connected to the hub yet' };
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly client: MeshClient,
    private readonly opts: AgentSessionOptions,
  ) {}

  get state(): SessionState {
    return this.current;
  }

  get id(): string {
    return this.opts.session;
  }

  /** Take the agent's lock. A 409 leaves the session refused; a hub that cannot be reached leaves it pending. */
  async connect(): Promise<void> {
    this.connecting ??= this.tryConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async tryConnect(): Promise<void> {
    if (this.current.kind === 'live' || this.current.kind === 'taken_over' || this.current.kind === 'closed') return;
    const { meshwork, agent, session, host, force } = this.opts;
    try {
      const connected = await this.client.connect(meshwork, agent, session, { host, force });
      this.current = { kind: 'live', connected };
      this.opts.log(
        connected.took_over
          ? `took over agent ${agent} in ${connected.meshwork} from another window`
          : `connected as agent ${agent} in ${connected.meshwork}`,
      );
    } catch (err) {
      if (!(err instanceof MeshError)) throw err;
      if (err.status === 409) {
        const sentence =
          `agent already running in another window: "${agent}" is live in another editor window; ` +
          `close that window and call this tool again, or restart this MCP server with --force to take it over.`;
        if (this.current.kind !== 'refused') this.opts.log(sentence);
        this.current = { kind: 'refused', sentence };
      } else if (err.status === 0 || err.status >= 500) {
        this.current = { kind: 'pending', sentence: err.toSentence() };
      } else {
        throw err;
      }
    }
  }

  /** Null when this window may act as the agent, otherwise the sentence a tool returns as its error. */
  async ensureLive(): Promise<string | null> {
    if (this.current.kind === 'pending' || this.current.kind === 'refused') await this.connect();
    const s = this.current;
    switch (s.kind) {
      case 'live':
        return null;
      case 'closed':
        return 'this MCP server is shutting down; restart your editor window to reconnect.';
      default:
        return s.sentence;
    }
  }

  startHeartbeat(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.opts.heartbeatMs ?? 20_000);
    this.timer.unref();
  }

  /** Refresh presence (and status); a 409 means another window took the agent. Other failures wait for the next beat. */
  async beat(status?: 'online' | 'waiting' | 'working' | 'idle', detail?: string): Promise<void> {
    if (this.current.kind === 'pending' || this.current.kind === 'refused') {
      await this.connect();
      return;
    }
    if (this.current.kind !== 'live') return;
    try {
      await this.client.heartbeat(this.opts.meshwork, this.opts.agent, { session: this.opts.session, status, detail });
    } catch (err) {
      if (err instanceof MeshError && err.status === 409) {
        this.lose({
          kind: 'taken_over',
          sentence:
            `agent session was taken over by another window: this window is no longer "${this.opts.agent}"; ` +
            `close it, or restart its MCP server with --force to take the agent back.`,
        });
        return;
      }
      if (!(err instanceof MeshError)) throw err;
      if (err.status !== 0) this.opts.log(`heartbeat failed: ${err.toSentence()}`);
    }
  }

  private lose(state: SessionState): void {
    this.stopHeartbeat();
    const was = this.current.kind;
    this.current = state;
    if (state.kind === 'taken_over') this.opts.log(state.sentence);
    if (was === 'live') this.opts.onLost();
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Release the lock (only if this window still holds it) and go offline. Never throws. */
  async close(timeoutMs = 3_000): Promise<void> {
    const wasLive = this.current.kind === 'live';
    this.lose({ kind: 'closed' });
    if (!wasLive) return;
    const release = this.client.disconnect(this.opts.meshwork, this.opts.agent, this.opts.session);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([release.then(() => undefined), timeout]).catch((err: unknown) => {
      this.opts.log(
        `could not release the agent on the hub: ${err instanceof MeshError ? err.toSentence() : String(err)}`,
      );
    });
    clearTimeout(timer);
  }
}
