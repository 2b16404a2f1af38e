// What every tool file exports (a ToolDef) and the small helpers tools share: results, long-call keep-alive.
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { Inbox, MeshClient } from '@meshcode/client';
import { z } from 'zod';
import type { AgentSession } from './session';

/** How long a send keeps retrying an unreachable hub (one idempotency key, so it is stored once). */
export const SEND_RETRY_MS = 30_000;

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Something meshcode_wait handed out that meshcode_done can resolve without being told which. */
export type PendingItem = { kind: 'ask'; id: string; from: string } | { kind: 'task'; taskId: string; title: string };

export interface ToolContext {
  client: MeshClient;
  /** The meshwork as the server was started with (name or id). */
  meshwork: string;
  agent: string;
  session: AgentSession;
  inbox: Inbox;
  /** Reply ids meshcode_ask already returned; meshcode_wait drops them instead of showing them twice. */
  shownReplies: Set<string>;
  /** Asks and tasks meshcode_wait handed out that meshcode_done has not resolved yet. */
  pending: Map<string, PendingItem>;
  /** Aborts when the server shuts down or another window takes the agent over. */
  signal: AbortSignal;
  log(line: string): void;
}

export interface ToolDef<S extends z.ZodRawShape> {
  name: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  /** What the activity row names after the arrow (a name or id, never a memory or scratchpad value). */
  target?(args: z.output<z.ZodObject<S>>, ctx: ToolContext): string | undefined;
  run(args: z.output<z.ZodObject<S>>, ctx: ToolContext, extra: Extra): Promise<CallToolResult>;
}

export interface AnyTool {
  name: string;
  description: string;
  input: z.ZodRawShape;
  annotations: ToolAnnotations;
  target?(args: Record<string, unknown>, ctx: ToolContext): string | undefined;
  run(args: Record<string, unknown>, ctx: ToolContext, extra: Extra): Promise<CallToolResult>;
}

export function defineTool<S extends z.ZodRawShape>(def: ToolDef<S>): AnyTool {
  return def as unknown as AnyTool;
}

/** An id argument. A short pattern: zod's uuid() adds a 190-byte regex to every tools/list (a budget, not free). */
export function uuid() {
  return z.string().regex(/^[0-9a-fA-F-]{36}$/, 'must be an id as shown by meshcode_wait or meshcode_tasks');
}

export function text(s: string): CallToolResult {
  return { content: [{ type: 'text', text: s }] };
}

/** A compact JSON answer, optionally followed by one line telling the model what to do next. */
export function json(value: unknown, next?: string): CallToolResult {
  return text(next ? `${JSON.stringify(value)}\n${next}` : JSON.stringify(value));
}

/** A failure the model can fix: one sentence saying what was wrong and how to fix it. */
export function fail(sentence: string): CallToolResult {
  return { content: [{ type: 'text', text: sentence }], isError: true };
}

/**
 * Clients time tool calls out (60 s by default in the SDK); a long wait sends progress notifications so a client
 * that resets its timeout on progress keeps waiting.
 */
export function keepAlive(extra: Extra, everyMs = 15_000): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  let progress = 0;
  const timer = setInterval(() => {
    progress += 1;
    extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress } })
      .catch(() => {});
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Abort when any of the signals aborts, or after ms. */
export function anySignal(signals: AbortSignal[], ms?: number): AbortSignal {
  return AbortSignal.any(ms === undefined ? signals : [...signals, AbortSignal.timeout(ms)]);
}
