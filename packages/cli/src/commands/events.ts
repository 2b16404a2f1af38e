// `meshcode events [id]`: received webhook events and cron ticks, or one event's whole trace (received -> matched ->
// task -> result -> policy decision -> write-back). `--webhook <source>` sets up a source's secret and token.
import type { Command } from 'commander';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { ago, clip, printJson, table } from '../output';
import { withProject } from '../resolve';
import { requireSession } from '../session';
import { projectOf } from './worker';

export interface EventRow {
  id: string;
  source: string;
  event: string;
  action: string | null;
  delivery_id: string;
  state: string;
  summary: string;
  duplicates: number;
  received_at: string;
  tasks: number;
  workers: string[];
  effects: number;
}

export interface EventTrace {
  event: EventRow & { context: Record<string, unknown>; payload_bytes: number };
  tasks: {
    id: string;
    title: string;
    status: string;
    stage: string;
    worker: string | null;
    attempts: number;
    max_attempts: number;
    cost_usd: number;
    error: string | null;
    result: string | null;
  }[];
  effects: {
    kind: string;
    provider: string;
    state: string;
    attempts: number;
    response: Record<string, unknown> | null;
    error: string | null;
  }[];
  steps: { at: string; step: string; outcome: string; summary: string; agent: string | null }[];
}

interface EventsOptions {
  project?: string;
  limit: string;
  webhook?: string;
  secret?: string;
  token?: string;
  apiUrl?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function renderTrace(t: EventTrace): string {
  const e = t.event;
  const lines = [
    `Event ${e.id}: ${e.source} ${e.event}${e.action ? `.${e.action}` : ''} — ${e.state}`,
    `  ${e.summary}`,
    `  delivery ${e.delivery_id}, received ${e.received_at}${e.duplicates ? `, redelivered ${e.duplicates}×` : ''}`,
    '',
    'Trace:',
  ];
  for (const s of t.steps) {
    lines.push(`  ${s.at.slice(11, 23)}  ${s.step.padEnd(18)} ${s.outcome.padEnd(5)} ${clip(s.summary, 120)}`);
  }
  if (t.tasks.length) {
    lines.push('', 'Tasks:');
    for (const task of t.tasks) {
      lines.push(
        `  ${task.id}  ${task.worker ?? '-'}  ${task.status} (attempt ${task.attempts}/${task.max_attempts}, ${task.stage})` +
          `${task.cost_usd ? `  $${task.cost_usd.toFixed(4)}` : ''}${task.error ? `  error: ${clip(task.error, 100)}` : ''}`,
      );
    }
  }
  if (t.effects.length) {
    lines.push('', 'Write-backs:');
    for (const f of t.effects) {
      const where = f.response && typeof f.response['html_url'] === 'string' ? `  ${f.response['html_url']}` : '';
      lines.push(
        `  ${f.provider} ${f.kind.padEnd(8)} ${f.state}${f.attempts > 1 ? ` after ${f.attempts} tries` : ''}${where}${f.error ? `  ${clip(f.error, 100)}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function webhook(ctx: Context, project: string, opts: EventsOptions): Promise<void> {
  const { client } = await requireSession(ctx);
  const source = opts.webhook ?? '';
  const set = await withProject(client, project, () =>
    client.rpc<{ url: string; secret?: string; path: string }>('mc_set_webhook_secret', {
      p_meshwork: project,
      p_source: source,
      ...(opts.secret !== undefined ? { p_secret: opts.secret } : {}),
    }),
  );
  if (opts.token !== undefined) {
    // `--token -` reads it from stdin, keeping it out of shell history and process listings.
    const token = opts.token === '-' ? (await readStdin()).trim() : opts.token;
    await client.rpc('mc_set_source_token', {
      p_meshwork: project,
      p_source: source,
      p_token: token,
      ...(opts.apiUrl ? { p_api_url: opts.apiUrl } : {}),
    });
  }
  if (ctx.json) {
    printJson(ctx, set);
    return;
  }
  ctx.out(`Deliveries for ${source} go to: ${ctx.hubUrl}${set.path}`);
  if (set.secret) ctx.out(`Webhook secret (shown once; paste it into ${source}'s webhook settings): ${set.secret}`);
  else ctx.out('Webhook secret set.');
  if (opts.token !== undefined) ctx.out(`Write-back token for ${source} stored encrypted on the hub.`);
}

async function show(ctx: Context, id: string | undefined, opts: EventsOptions): Promise<void> {
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  if (opts.webhook) return webhook(ctx, project, opts);
  const limit = Math.min(Math.max(Number(opts.limit) || 20, 1), 500);
  if (id === undefined) {
    const rows = await withProject(client, project, () =>
      client.rpc<EventRow[]>('mc_events', { p_meshwork: project, p_limit: limit }),
    );
    if (ctx.json) {
      printJson(ctx, rows);
      return;
    }
    if (rows.length === 0) {
      ctx.out(
        `No events in ${project} yet. Point a webhook at the hub: meshcode events --project ${project} --webhook github`,
      );
      return;
    }
    ctx.out(
      table(
        ['ID', 'RECEIVED', 'SOURCE', 'EVENT', 'STATE', 'TASKS', 'WORKERS', 'SUMMARY'],
        rows.map((e) => [
          e.id.slice(0, 8),
          ago(e.received_at),
          e.source,
          `${e.event}${e.action ? `.${e.action}` : ''}`,
          e.state,
          String(e.tasks),
          e.workers.join(',') || '-',
          clip(e.summary, 60),
        ]),
      ),
    );
    return;
  }
  let full = id;
  if (!UUID.test(id)) {
    if (!/^[0-9a-f-]{4,}$/i.test(id))
      throw new CliError(`'${id}' is not an event id`, EXIT.usage, 'pass an id from meshcode events');
    const rows = await client.rpc<EventRow[]>('mc_events', { p_meshwork: project, p_limit: 500 });
    const matches = rows.filter((e) => e.id.startsWith(id.toLowerCase()));
    if (matches.length !== 1) {
      throw new CliError(
        matches.length ? `'${id}' matches ${matches.length} events` : `no recent event id starts with '${id}'`,
        EXIT.failure,
        'pass more characters of the id (meshcode events lists them)',
      );
    }
    full = matches[0]!.id;
  }
  const trace = await withProject(client, project, () =>
    client.rpc<EventTrace>('mc_event_trace', { p_meshwork: project, p_event_id: full }),
  );
  ctx.out(ctx.json ? JSON.stringify(trace, null, 2) : renderTrace(trace));
}

export function register(program: Command, io: Io): void {
  program
    .command('events')
    .description("list received events, or show one event's whole trace; --webhook <source> sets up a webhook")
    .argument('[id]', 'event id (or the first characters of it) to show its trace')
    .option('-p, --project <name>', 'project (meshwork) name')
    .option('-n, --limit <n>', 'how many events to list', '20')
    .option('--webhook <source>', 'set up github, gitlab, slack, telegram, generic or standard deliveries (owner only)')
    .option('--secret <secret>', 'with --webhook: the webhook secret to use (default: a new random one, shown once)')
    .option(
      '--token <token>',
      'with --webhook github|gitlab|slack|telegram: the token used to write results back (a bot token for Slack and Telegram; "-" reads it from stdin)',
    )
    .option('--api-url <url>', 'with --token: the API base URL (GitHub Enterprise, self-managed GitLab)')
    .action(action(io, (ctx, id: string | undefined, opts: EventsOptions) => show(ctx, id, opts)));
}
