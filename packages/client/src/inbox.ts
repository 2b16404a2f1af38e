// The wait loop with cursor semantics (Telegram getUpdates style): asking for the next batch acknowledges the last
// one. The hub stores the acked cursor per agent; a local cursor file lets a restarted process resume even before
// its first ack reaches the hub. Network failures and hub restarts are retried with backoff, never surfaced as loss.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MeshError, type Message } from '@meshcode/protocol';
import type { MeshClient } from './client';

export interface CursorStore {
  load(): Promise<number | undefined>;
  save(seq: number): Promise<void>;
}

export function memoryCursorStore(initial?: number): CursorStore {
  let value = initial;
  return {
    load: async () => value,
    save: async (seq) => {
      value = seq;
    },
  };
}

/** A cursor kept in a small JSON file, replaced atomically. */
export function fileCursorStore(path: string): CursorStore {
  return {
    async load() {
      try {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as { seq?: unknown };
        return typeof parsed.seq === 'number' && Number.isSafeInteger(parsed.seq) && parsed.seq >= 0
          ? parsed.seq
          : undefined;
      } catch {
        return undefined;
      }
    },
    async save(seq) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ seq }), { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}

/** Whether a failure is worth retrying: the hub unreachable, restarting or overloaded. */
export function isTransient(err: unknown): boolean {
  if (err instanceof MeshError)
    return err.status === 0 && err.code !== 'ABORTED'
      ? true
      : err.status === 503 || err.status === 502 || err.status === 504;
  return err instanceof TypeError;
}

export async function withRetry<T>(fn: () => Promise<T>, signal?: AbortSignal, maxDelayMs = 5_000): Promise<T> {
  let delay = 100;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || !isTransient(err)) throw err;
      await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay * 0.2)));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

export interface InboxOptions {
  meshwork: string;
  agent?: string;
  store?: CursorStore;
}

export class Inbox {
  private cursor: number | undefined;
  private handedOut: number | undefined;
  private loaded = false;

  constructor(
    private readonly client: MeshClient,
    private readonly opts: InboxOptions,
  ) {}

  /** The last seq acknowledged (handed out and then asked past), if known. */
  get position(): number | undefined {
    return this.cursor;
  }

  /** Wait for the next batch. Calling it again acknowledges the previous batch. */
  async next(opts: { timeoutSeconds?: number; signal?: AbortSignal; limit?: number } = {}): Promise<Message[]> {
    const store = this.opts.store;
    if (!this.loaded) {
      this.cursor = await store?.load();
      this.loaded = true;
    }
    if (this.handedOut !== undefined && (this.cursor === undefined || this.handedOut > this.cursor)) {
      this.cursor = this.handedOut;
      await store?.save(this.cursor);
    }
    const res = await withRetry(
      () =>
        this.client.wait({
          meshwork: this.opts.meshwork,
          agent: this.opts.agent,
          afterSeq: this.cursor,
          timeoutSeconds: opts.timeoutSeconds,
          limit: opts.limit,
          signal: opts.signal,
        }),
      opts.signal,
    );
    if (this.cursor === undefined) this.cursor = res.cursor;
    const last = res.messages.at(-1)?.seq;
    if (last !== undefined) this.handedOut = last;
    return res.messages;
  }

  /** Acknowledge what was handed out without waiting for more (e.g. before shutting down). */
  async commit(): Promise<void> {
    if (this.handedOut === undefined || (this.cursor !== undefined && this.handedOut <= this.cursor)) return;
    const seq = this.handedOut;
    await withRetry(() => this.client.ack(this.opts.meshwork, this.opts.agent, seq));
    this.cursor = seq;
    await this.opts.store?.save(seq);
  }
}
