// `meshcode worker add|ls|start|stop|rm|logs`: workers are agents of kind worker. The definition (YAML, no secrets)
// is stored on the hub; `start` runs the worker runtime on this machine with secrets from MESHCODE_HOME/secrets.yml.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { subscribeActivity, type MeshClient } from '@meshcode/client';
import type { ActivityRow } from '@meshcode/protocol';
import { action, type Context, type Io } from '../common';
import { CliError, EXIT } from '../errors';
import { ago, clip, printJson, progress, table } from '../output';
import { checkName, withProject } from '../resolve';
import { requireSession } from '../session';

export interface WorkerSummary {
  name: string;
  driver: string;
  model: string | null;
  state: string;
  enabled: boolean;
  status: string;
  last_seen_at: string | null;
  host: string | null;
  events: { source: string; on: string[]; auto: boolean }[];
  schedules: {
    cron: string;
    paused: boolean;
    next_run_at: string | null;
    runs_today: number;
    max_runs_per_day: number;
  }[];
  cost_today_usd: number;
  cost_cap_usd: number | null;
  active_tasks: number;
  done_today: number;
  failed_today: number;
}

interface ProjectOption {
  project?: string;
}

/** The --project option, or the only project the account has. */
export async function projectOf(client: MeshClient, opts: ProjectOption): Promise<string> {
  if (opts.project) return checkName('project', opts.project);
  const mine = await client.listMeshworks();
  const [only] = mine;
  if (mine.length === 1 && only) return only.name;
  throw new CliError(
    'which project? pass --project <name>',
    EXIT.usage,
    mine.length
      ? `your projects: ${mine.map((m) => m.name).join(', ')}`
      : 'create one with meshcode setup <project> <agent>',
  );
}

function runtimeFiles(ctx: Context, project: string, name: string) {
  const dir = join(ctx.env.home, 'workers');
  return { dir, pid: join(dir, `${project}.${name}.pid`), log: join(dir, `${project}.${name}.log`) };
}

interface PidRecord {
  pid: number;
  project: string;
  worker: string;
  started_at: string;
}

/** The runtime this machine started for the worker, if it is still running (and is still ours). */
async function localRuntime(ctx: Context, project: string, name: string): Promise<PidRecord | null> {
  const files = runtimeFiles(ctx, project, name);
  let record: PidRecord;
  try {
    record = JSON.parse(await readFile(files.pid, 'utf8')) as PidRecord;
  } catch {
    return null;
  }
  try {
    process.kill(record.pid, 0);
  } catch {
    await rm(files.pid, { force: true });
    return null;
  }
  // A reused pid belongs to someone else: only signal a process whose command line is this worker's runtime.
  if (existsSync(`/proc/${record.pid}/cmdline`)) {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    if (!cmdline.includes('worker') || !cmdline.includes(name)) {
      await rm(files.pid, { force: true });
      return null;
    }
  }
  return record;
}

async function stopLocal(ctx: Context, project: string, name: string): Promise<boolean> {
  const record = await localRuntime(ctx, project, name);
  if (!record) return false;
  process.kill(record.pid, 'SIGTERM');
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(record.pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(runtimeFiles(ctx, project, name).pid, { force: true });
  return true;
}

function describeWorker(w: WorkerSummary): string {
  const rules = `${w.events.length} rule${w.events.length === 1 ? '' : 's'}`;
  const schedules = `${w.schedules.length} schedule${w.schedules.length === 1 ? '' : 's'}`;
  return `${w.driver}${w.model ? ` ${w.model}` : ''}, ${rules}, ${schedules}`;
}

async function add(ctx: Context, io: Io, file: string, opts: ProjectOption): Promise<void> {
  const { parseWorkerYaml, loadSecrets, loadWorkerEnv, rawDefinition } = await import('@meshcode/worker');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      EXIT.usage,
      'check the path',
    );
  }
  const parsed = parseWorkerYaml(text, file);
  if (!parsed.ok) {
    throw new CliError(
      `${file} is not a valid worker definition:\n${parsed.issues.map((i) => `  ${i.file}:${i.line}:${i.column}: ${i.field ? `${i.field} ` : ''}${i.message}`).join('\n')}`,
      EXIT.usage,
      'fix the fields named above and run the command again',
    );
  }
  const definition = rawDefinition(text);
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  const saved = await withProject(client, project, () =>
    client.rpc<WorkerSummary & { created: boolean }>('mc_worker_upsert', {
      p_meshwork: project,
      p_definition: definition,
    }),
  );
  if (ctx.json) {
    printJson(ctx, saved);
    return;
  }
  ctx.out(
    `Worker ${saved.name} ${saved.created ? 'added to' : 'updated in'} project ${project} (${describeWorker(saved)}).`,
  );

  const worker = parsed.worker;
  const refs = [
    ...Object.values(worker.tokens),
    ...(worker.driver === 'openai' && worker.openai.api_key ? [worker.openai.api_key] : []),
    ...(worker.driver === 'http' && worker.http.api_key ? [worker.http.api_key] : []),
  ];
  if (refs.length) {
    const env = loadWorkerEnv(io.env);
    const secrets = await loadSecrets(env.meshcodeHome);
    const missing = secrets.ok ? refs.filter((r) => !secrets.secrets.resolve(r).ok) : refs;
    if (!secrets.ok) ctx.err(`warning: ${secrets.error}`);
    for (const ref of missing) {
      ctx.err(
        `warning: secret "${ref}" is not in ${join(env.meshcodeHome, 'secrets.yml')} on this machine; add it where the worker runs.`,
      );
    }
  }
  const sources = [...new Set(worker.events.map((e) => e.source))];
  if (sources.length) {
    const hooks = await client.rpc<{ source: string; has_secret: boolean; path: string }[]>('mc_webhooks', {
      p_meshwork: project,
    });
    for (const source of sources) {
      const hook = hooks.find((h) => h.source === source);
      if (hook?.has_secret) ctx.out(`  ${source} deliveries: ${ctx.hubUrl}${hook.path}`);
      else ctx.out(`  ${source} has no webhook secret yet: meshcode events --project ${project} --webhook ${source}`);
    }
  }
  ctx.out(`Start it here: meshcode worker start ${saved.name} --project ${project}`);
}

async function list(ctx: Context, opts: ProjectOption): Promise<void> {
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  const workers = await withProject(client, project, () =>
    client.rpc<WorkerSummary[]>('mc_workers', { p_meshwork: project }),
  );
  if (ctx.json) {
    printJson(ctx, workers);
    return;
  }
  if (workers.length === 0) {
    ctx.out(`No workers in ${project} yet: add one with meshcode worker add <file.yml> --project ${project}.`);
    return;
  }
  ctx.out(
    table(
      ['WORKER', 'DRIVER', 'STATE', 'RULES', 'SCHEDULES', 'ACTIVE', 'DONE/FAILED TODAY', 'COST TODAY', 'LAST SEEN'],
      workers.map((w) => [
        w.name,
        `${w.driver}${w.model ? ` (${w.model})` : ''}`,
        w.state,
        String(w.events.length),
        w.schedules.length ? w.schedules.map((s) => (s.paused ? `${s.cron} (paused)` : s.cron)).join(', ') : '-',
        String(w.active_tasks),
        `${w.done_today}/${w.failed_today}`,
        `$${w.cost_today_usd.toFixed(4)}${w.cost_cap_usd !== null ? ` of $${w.cost_cap_usd}` : ''}`,
        w.last_seen_at ? `${ago(w.last_seen_at)}${w.host ? ` on ${w.host}` : ''}` : 'never',
      ]),
    ),
  );
}

interface StartOptions extends ProjectOption {
  detach?: boolean;
  force?: boolean;
}

async function start(ctx: Context, io: Io, name: string, opts: StartOptions): Promise<void> {
  const worker = checkName('agent', name);
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  await withProject(client, project, () =>
    client.rpc('mc_worker_set', { p_meshwork: project, p_name: worker, p_enabled: true, p_resume: true }),
  );
  if (opts.detach) {
    if (await localRuntime(ctx, project, worker)) {
      throw new CliError(
        `worker ${worker} already runs on this machine`,
        EXIT.failure,
        `meshcode worker stop ${worker} --project ${project}`,
      );
    }
    const files = runtimeFiles(ctx, project, worker);
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(files.log, 'a', 0o600);
    const args = [
      ...process.execArgv,
      process.argv[1] ?? '',
      '--hub',
      ctx.hubUrl,
      'worker',
      'start',
      worker,
      '--project',
      project,
    ];
    if (opts.force) args.push('--force');
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: io.env });
    closeSync(fd);
    child.unref();
    const record: PidRecord = { pid: child.pid ?? 0, project, worker, started_at: new Date().toISOString() };
    await writeFile(files.pid, JSON.stringify(record), { mode: 0o600 });
    ctx.out(`Worker ${worker} started in the background (pid ${record.pid}); logs: ${files.log}`);
    return;
  }
  const { localDriver, loadWorkerEnv, runWorker } = await import('@meshcode/worker');
  const env = loadWorkerEnv(io.env);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runWorker({
      client,
      project,
      worker,
      driver: (definition) => localDriver(definition, env),
      signal: controller.signal,
      force: opts.force === true,
      log: (line) => ctx.err(`${new Date().toISOString().slice(11, 19)} ${line}`),
    });
  } catch (err) {
    if (err instanceof Error && err.name !== 'MeshError' && !(err instanceof CliError)) {
      throw new CliError(err.message, EXIT.failure);
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function stopWorker(ctx: Context, name: string, opts: ProjectOption): Promise<void> {
  const worker = checkName('agent', name);
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  await withProject(client, project, () =>
    client.rpc('mc_worker_set', { p_meshwork: project, p_name: worker, p_enabled: false }),
  );
  const local = await stopLocal(ctx, project, worker);
  ctx.out(
    `Worker ${worker} stopped: it takes no new tasks${local ? ' and its runtime on this machine has exited' : ''}.` +
      (local ? '' : ' A runtime on another machine keeps running until you stop it there.'),
  );
}

async function remove(ctx: Context, name: string, opts: ProjectOption): Promise<void> {
  const worker = checkName('agent', name);
  const { client } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  await stopLocal(ctx, project, worker);
  await withProject(client, project, () => client.rpc('mc_worker_remove', { p_meshwork: project, p_name: worker }));
  ctx.out(`Worker ${worker} removed from ${project}; its unfinished tasks were cancelled.`);
}

function formatRow(r: ActivityRow): string {
  const step = typeof r.data['step'] === 'string' ? r.data['step'] : r.kind;
  return `${r.created_at.slice(0, 19).replace('T', ' ')}  ${step.padEnd(18)} ${clip(r.summary, 140)}`;
}

interface LogsOptions extends ProjectOption {
  follow?: boolean;
  local?: boolean;
  lines: string;
}

async function logs(ctx: Context, name: string, opts: LogsOptions): Promise<void> {
  const worker = checkName('agent', name);
  const limit = Math.min(Math.max(Number(opts.lines) || 50, 1), 1000);
  const { client, credential } = await requireSession(ctx);
  const project = await projectOf(client, opts);
  if (opts.local) {
    const file = runtimeFiles(ctx, project, worker).log;
    const exists = await stat(file).catch(() => null);
    if (!exists)
      throw new CliError(`no local log for ${worker}: it was never started here with --detach`, EXIT.failure);
    ctx.out((await readFile(file, 'utf8')).trimEnd().split('\n').slice(-limit).join('\n'));
    return;
  }
  const rows = await withProject(client, project, () =>
    client.activity(project, { agent: worker, beforeId: 2 ** 53 - 1, limit }),
  );
  const ordered = [...rows].sort((a, b) => a.id - b.id);
  if (ctx.json) printJson(ctx, ordered);
  else for (const r of ordered) ctx.out(formatRow(r));
  if (!opts.follow) return;
  progress(ctx, `(following ${worker}'s activity, Ctrl-C to stop)`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    await subscribeActivity({
      hubUrl: ctx.hubUrl,
      apiKey: credential.key,
      meshwork: project,
      signal: controller.signal,
      after: ordered.at(-1)?.id ?? 0,
      onActivity: (row) => {
        if (row.agent !== worker) return;
        ctx.out(ctx.json ? JSON.stringify(row) : formatRow(row));
      },
    });
  } finally {
    process.off('SIGINT', stop);
  }
}

export function register(program: Command, io: Io): void {
  const cmd = program
    .command('worker')
    .description('manage workers: agents that run tasks from events (add, ls, start, stop, rm, logs)');
  const project = (c: Command) => c.option('-p, --project <name>', 'project (meshwork) name');

  project(
    cmd
      .command('add')
      .argument('<file>', 'worker definition (YAML)')
      .description('add or update a worker from its YAML file'),
  ).action(action(io, (ctx, file: string, opts: ProjectOption) => add(ctx, io, file, opts)));
  project(
    cmd.command('ls').alias('list').description('list the workers of a project with state and cost today'),
  ).action(action(io, (ctx, opts: ProjectOption) => list(ctx, opts)));
  project(
    cmd
      .command('start')
      .argument('<name>', 'worker name')
      .description('enable a worker and run it on this machine (Ctrl-C stops; --detach runs it in the background)')
      .option('-d, --detach', 'run in the background; logs go to MESHCODE_HOME/workers/')
      .option('--force', 'take over from a runtime of this worker running elsewhere'),
  ).action(action(io, (ctx, name: string, opts: StartOptions) => start(ctx, io, name, opts)));
  project(
    cmd
      .command('stop')
      .argument('<name>', 'worker name')
      .description('stop a worker: no new tasks; ends its runtime here'),
  ).action(action(io, (ctx, name: string, opts: ProjectOption) => stopWorker(ctx, name, opts)));
  project(
    cmd
      .command('rm')
      .alias('remove')
      .argument('<name>', 'worker name')
      .description('remove a worker and cancel its unfinished tasks'),
  ).action(action(io, (ctx, name: string, opts: ProjectOption) => remove(ctx, name, opts)));
  project(
    cmd
      .command('logs')
      .argument('<name>', 'worker name')
      .description("show a worker's pipeline steps from the hub (--local: its background runtime's log file)")
      .option('-f, --follow', 'keep printing new steps')
      .option('--local', 'print the log file of the runtime started here with --detach')
      .option('-n, --lines <n>', 'how many lines', '50'),
  ).action(action(io, (ctx, name: string, opts: LogsOptions) => logs(ctx, name, opts)));
}
