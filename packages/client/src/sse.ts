// Live activity over the hub's SSE feed, with automatic reconnect and Last-Event-ID resume.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ActivityRow, StatusBoard, type ErrorEnvelope } from '@meshcode/protocol';
import { toMeshError } from './client';

export interface FeedHandlers {
  onActivity?(row: ActivityRow): void;
  onStatus?(status: StatusBoard): void;
  /** A fatal error from the hub (revoked key, removed member): the feed stops. */
  onError?(err: Error): void;
  onOpen?(): void;
}

export interface FeedOptions extends FeedHandlers {
  hubUrl: string;
  apiKey: string;
  meshwork: string;
  after?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Runs until the signal aborts or the hub refuses the caller; reconnects after network failures and hub restarts. */
export async function subscribeActivity(opts: FeedOptions): Promise<void> {
  const f = opts.fetch ?? fetch;
  // The hub's resume cursor, the last event's id: a reconnect gets rows that committed late, and none twice.
  let cursor = opts.after === undefined ? undefined : String(opts.after);
  let delay = 250;
  while (!opts.signal?.aborted) {
    try {
      const url = new URL(`/realtime/v1/meshworks/${encodeURIComponent(opts.meshwork)}/activity`, opts.hubUrl);
      if (cursor !== undefined) url.searchParams.set('after', cursor);
      const res = await f(url, {
        headers: { authorization: `Bearer ${opts.apiKey}`, accept: 'text/event-stream' },
        signal: opts.signal,
      });
      if (!res.ok || !res.body) {
        const body: unknown = await res.json().catch(() => null);
        const err = toMeshError(res.status, body);
        if (res.status >= 500) throw err;
        opts.onError?.(err);
        return;
      }
      delay = 250;
      opts.onOpen?.();
      let fatal: Error | null = null;
      const parser = createParser({
        onEvent(ev: EventSourceMessage) {
          if (ev.event === 'activity') {
            const row = ActivityRow.parse(JSON.parse(ev.data));
            if (ev.id) cursor = ev.id;
            opts.onActivity?.(row);
          } else if (ev.event === 'status') {
            opts.onStatus?.(StatusBoard.parse(JSON.parse(ev.data)));
          } else if (ev.event === 'error') {
            fatal = toMeshError(403, JSON.parse(ev.data) as ErrorEnvelope);
          }
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (fatal) break;
      }
      if (fatal) {
        opts.onError?.(fatal);
        return;
      }
    } catch (err) {
      if (opts.signal?.aborted) return;
      void err;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5_000);
  }
}
