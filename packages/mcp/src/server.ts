// The MCP server factory: one McpServer per editor window, acting as one agent of one meshwork. It connects no
// transport (runStdio and the hub's /mcp do); start() takes the agent's lock and heartbeats, cleanup() releases it.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Inbox, MeshError, withRetry, type MeshClient } from '@meshcode/client';
import type { AgentDetail } from '@meshcode/protocol';
import { buildInstructions } from './instructions';
import { AgentSession } from './session';
import { fail, type AnyTool, type PendingItem, type ToolContext } from './tool';
import { ALL_TOOLS } from './tools';

export const SERVER_NAME = 'meshcode';
export const SERVER_VERSION = '0.1.0';

export interface CreateServerOptions {
  client: MeshClient;
  /** Meshwork (project) name or id. */
  meshwork: string;
  agent: string;
  /** Live-session id for the split-brain lock; a fresh one per server by default. */
  session?: string;
  /** Shown to the user of another window that is refused (default: this machine's hostname). */
  host?: string;
  /** Take the agent over from another live window. */
  force?: boolean;
  /** Where diagnostics go (stderr for stdio; never stdout). */
  log?: (line: string) => void;
  /** Heartbeat period (default 20 s). */
  heartbeatMs?: number;
}

export interface MeshcodeServer {
  server: McpServer;
  session: AgentSession;
  /** Take the agent's lock (mc_connect) and start heartbeating. A refusal does not throw: tools report it. */
  start(): Promise<void>;
  /** Stop heartbeating, end in-flight waits and release the agent on the hub (mc_disconnect). */
  cleanup(): Promise<void>;
}

async function loadAgent(opts: CreateServerOptions, log: (line: string) => void): Promise<AgentDetail | null> {
  const giveUp = AbortSignal.timeout(5_000);
  try {
    return await withRetry(() => opts.client.getAgent(opts.meshwork, opts.agent), giveUp, 1_000);
  } catch (err) {
    // Unreachable hub: start anyway with generic instructions; tools connect once it is back.
    if (err instanceof MeshError && (err.status === 0 || err.status >= 500)) {
      log(`${err.toSentence()}; starting without the agent's role`);
      return null;
    }
    throw err;
  }
}

function activityTarget(tool: AnyTool, args: Record<string, unknown>, ctx: ToolContext): string | undefined {
  const t = tool.target?.(args, ctx);
  return t === undefined || t === '' ? undefined : t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

/**
 * Build the server for one agent. Throws a MeshError when the key, project or agent is wrong (the caller prints its
 * sentence); a hub that cannot be reached is not fatal.
 */
export async function createServer(opts: CreateServerOptions): Promise<MeshcodeServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`meshcode mcp: ${line}\n`));
  const detail = await loadAgent(opts, log);
  const agent = detail?.name ?? opts.agent.toLowerCase();
  const meshworkName = detail?.meshwork ?? opts.meshwork;

  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      capabilities: { tools: {} },
      instructions: buildInstructions({
        agent,
        meshwork: meshworkName,
        role: detail?.role,
        launchPrompt: detail?.launch_prompt,
      }),
    },
  );

  // Aborted on cleanup or when another window takes the agent: ends in-flight waits and asks.
  const halt = new AbortController();
  const session = new AgentSession(opts.client, {
    meshwork: opts.meshwork,
    agent,
    session: opts.session ?? randomUUID(),
    host: opts.host ?? hostname(),
    force: opts.force,
    heartbeatMs: opts.heartbeatMs,
    log,
    onLost: () => halt.abort(),
  });

  const ctx: ToolContext = {
    client: opts.client,
    meshwork: opts.meshwork,
    agent,
    session,
    inbox: new Inbox(opts.client, { meshwork: opts.meshwork, agent }),
    shownReplies: new Set<string>(),
    pending: new Map<string, PendingItem>(),
    signal: halt.signal,
    log,
  };

  const record = (tool: AnyTool, args: Record<string, unknown>, result: CallToolResult) => {
    const target = activityTarget(tool, args, ctx);
    const data: Record<string, unknown> = {
      tool: tool.name,
      args: Object.keys(args).filter((k) => args[k] !== undefined),
    };
    if (result.isError) data.error = true;
    // Fire-and-forget: the activity log must never fail or slow a tool.
    opts.client
      .logActivity(opts.meshwork, agent, 'tool_call', target ? `${tool.name} → ${target}` : tool.name, data)
      .catch((err: unknown) =>
        log(`could not record ${tool.name} in activity: ${String((err as Error).message ?? err)}`),
      );
  };

  for (const tool of ALL_TOOLS) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.input, annotations: tool.annotations },
      async (args: Record<string, unknown>, extra) => {
        const refusal = await session.ensureLive();
        if (refusal) return fail(refusal);
        let result: CallToolResult;
        try {
          result = await tool.run(args, ctx, extra);
        } catch (err) {
          if (!(err instanceof MeshError)) throw err;
          result = fail(err.toSentence());
        }
        record(tool, args, result);
        return result;
      },
    );
  }

  return {
    server,
    session,
    async start() {
      await session.connect();
      session.startHeartbeat();
    },
    async cleanup() {
      halt.abort();
      await session.close();
    },
  };
}
