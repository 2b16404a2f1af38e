// A body over its limit is refused (413) before it has all been read. Answering at once and closing the connection
// (Node closes it after a "Connection: close" answer) drops the bytes still arriving: the kernel then resets the
// connection, and a client still writing its body sees EPIPE or ECONNRESET instead of the 413. So the rest of the
// body is read and thrown away first, up to a bound, and only then answered and closed.
import type { IncomingMessage } from 'node:http';

/** At most this many further bytes are read and discarded before the refusal is sent anyway. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** And for at most this long (a slow or stalled upload gets its answer then). */
export const DRAIN_MAX_MS = 30_000;

/**
 * Resolves once the request's body has been read to its end (nothing is kept), the client went away, the bounds were
 * reached or `stop` fired (the hub shutting down). A body declared larger than the bound is not read at all: that
 * client is refused at once.
 */
export function drainBody(
  req: IncomingMessage,
  stop?: AbortSignal,
  maxBytes: number = DRAIN_MAX_BYTES,
  maxMs: number = DRAIN_MAX_MS,
): Promise<void> {
  if (req.readableEnded || req.destroyed || stop?.aborted) return Promise.resolve();
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    const finish = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', finish);
      req.off('close', finish);
      req.off('error', finish);
      stop?.removeEventListener('abort', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    timer.unref();
    req.on('data', onData);
    req.once('end', finish);
    req.once('close', finish);
    req.once('error', finish);
    stop?.addEventListener('abort', finish, { once: true });
    req.resume();
  });
}
