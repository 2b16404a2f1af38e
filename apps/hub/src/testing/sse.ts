// Test helper: an SSE stream parsed as it arrives, with a wait for a matching event.
import { createParser } from 'eventsource-parser';
import { vi } from 'vitest';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface Stream {
  status: number;
  events: SseEvent[];
  ended: Promise<void>;
  close(): void;
  waitFor(pred: (e: SseEvent) => boolean): Promise<SseEvent>;
}

/** An SSE stream read on the side: its events pile up in `events` until close(). */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal, headers: { accept: 'text/event-stream', ...headers } });
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event ?? 'message', data: e.data, id: e.id }) });
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk));
    } catch {
      // aborted by close()
    }
  })();
  return {
    status: res.status,
    events,
    ended,
    close: () => ac.abort(),
    async waitFor(pred) {
      return await vi.waitFor(
        () => {
          const found = events.find(pred);
          if (!found) throw new Error(`no matching event yet in ${JSON.stringify(events.map((e) => e.event))}`);
          return found;
        },
        { timeout: 15_000, interval: 20 },
      );
    },
  };
}
