// The one interface every webhook verifier implements: raw body in, delivery id and event name out.

export interface VerifyRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export type VerifyResult =
  { ok: true; deliveryId: string; event: string } | { ok: false; status: 401 | 400; reason: string };

/** `now` returns milliseconds since the epoch (Date.now); injected so tests control the replay window. */
export type Verifier = (req: VerifyRequest, secret: string | undefined, now: () => number) => VerifyResult;
