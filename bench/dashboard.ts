// Benchmark (prints figures, asserts nothing): the dashboard with 50 agents and 10,000 messages in Debian's
// Chromium against a real hub on the embedded database. First load of every view, then how long a change takes to
// show: a message in the chat, a status on the agents panel, an edge lighting up, a task on the board.
//   npm run bench:dashboard            (BENCH_MESSAGES=2000 for a quicker run)
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { z } from 'zod';
import { REPO, startHub } from '../e2e/support/hub';
import { Agent, loginLink, newAccount } from '../e2e/support/mesh';

const env = z
  .object({
    BENCH_AGENTS: z.coerce.number().int().min(2).max(500).default(50),
    BENCH_MESSAGES: z.coerce.number().int().min(10).max(100_000).default(10_000),
  })
  .parse(process.env);

const PROJECT = 'bench';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function ms(n: number): string {
  return `${n.toFixed(0).padStart(6)} ms`;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Navigate and wait for `ready`; the time from the start of navigation. */
async function firstLoad(page: Page, url: string, ready: () => Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await page.goto(url);
  await ready();
  return Date.now() - t0;
}

/** Do something outside the browser and time until the page shows its effect. */
async function update(page: Page, act: () => Promise<unknown>, shown: () => Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await act();
  await shown();
  return Date.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [join(REPO, 'apps/web/scripts/build.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('the dashboard build failed');

  const hub = await startHub();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const agents: Agent[] = [];
  try {
    const owner = await newAccount(hub.url, 'Bench');
    const c = owner.client;
    await c.createMeshwork(PROJECT);
    const names = [
      'commander',
      ...Array.from({ length: env.BENCH_AGENTS - 1 }, (_, i) => `agent-${String(i + 1).padStart(2, '0')}`),
    ];

    let t = Date.now();
    await pool(names, 4, async (n) => {
      await c.addAgent(PROJECT, n, { role: n === 'commander' ? 'lead' : `worker ${n}`, editor: 'claude-code' });
    });
    for (const n of names) agents.push(new Agent(c, PROJECT, n));
    await pool(agents, 4, (a) => a.connect());
    const seedAgents = Date.now() - t;

    t = Date.now();
    const sends = Array.from({ length: env.BENCH_MESSAGES }, (_, i) => i);
    await pool(sends, 6, async (i) => {
      const from = names[i % names.length] as string;
      let to = i % 97 === 0 ? '*' : (names[(i * 7 + 3) % names.length] as string);
      if (to === from) to = from === 'commander' ? (names[1] as string) : 'commander';
      await c.send({
        meshwork: PROJECT,
        from,
        to,
        body: `message ${i}: ${'lorem ipsum '.repeat(1 + (i % 12))}`,
        idempotencyKey: randomUUID(),
      });
    });
    const seedMessages = Date.now() - t;
    for (let i = 0; i < 120; i++)
      await c.createTask(PROJECT, { title: `task ${i}`, assignee: names[i % names.length] });
    for (let i = 0; i < 30; i++) await c.remember(PROJECT, 'commander', `note-${i}`, `value ${i} `.repeat(20));
    const last = 'the newest seeded message';
    await agents[1]!.send('commander', last);

    // What the views ask the hub for, timed alone (median of 5): separates hub time from browser time.
    const api: [string, number][] = [];
    for (const [name, call] of [
      ['mc_status', () => c.status(PROJECT)],
      ['mc_history (100 newest)', () => c.history(PROJECT, { limit: 100 })],
      ['mc_activity (500 latest)', () => c.activity(PROJECT, { beforeId: Number.MAX_SAFE_INTEGER, limit: 500 })],
      ['mc_activity (one agent)', () => c.activity(PROJECT, { agent: 'commander', afterId: 0, limit: 1000 })],
      ['mc_task_list', () => c.listTasks(PROJECT, { limit: 1000 })],
    ] as const) {
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        await call();
        xs.push(Date.now() - t0);
      }
      api.push([name, median(xs)]);
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await loginLink(hub.url, owner.key));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/project\?/);
    const view = (v: string, extra = '') => `${hub.url}/project?name=${PROJECT}&view=${v}${extra}`;

    const loads: [string, number][] = [];
    loads.push([
      'agents (50 cards)',
      await firstLoad(page, view('agents'), () =>
        page
          .locator('li[data-agent]')
          .nth(names.length - 1)
          .waitFor(),
      ),
    ]);
    loads.push(['chat (newest page)', await firstLoad(page, view('chat'), () => page.getByText(last).waitFor())]);
    loads.push([
      'mesh graph',
      await firstLoad(page, view('graph'), () =>
        page
          .locator('.react-flow__node')
          .nth(names.length - 1)
          .waitFor(),
      ),
    ]);
    loads.push([
      'replay (commander)',
      await firstLoad(page, view('replay', '&agent=commander'), () => page.getByText(/^Step \d+ of \d+/).waitFor()),
    ]);
    loads.push([
      'tasks (120)',
      await firstLoad(page, view('tasks'), () => page.getByText('task 119', { exact: true }).waitFor()),
    ]);
    loads.push([
      'memory (30 keys)',
      await firstLoad(page, view('memory', '&agent=commander'), () => page.locator('li[data-key="note-29"]').waitFor()),
    ]);

    // Paging back through the chat: five older pages.
    await page.goto(view('chat'));
    await page.getByText(last).waitFor();
    const t1 = Date.now();
    let pages = 0;
    const older = page.getByRole('button', { name: 'Load older messages' });
    for (; pages < 5 && (await older.count()) > 0; pages++) {
      const before = (await page.getByText(/\d[\d,]* loaded/).textContent()) ?? '';
      await older.click();
      await page
        .getByText(/\d[\d,]* loaded/)
        .filter({ hasNotText: before })
        .waitFor();
    }
    const olderPages = (Date.now() - t1) / Math.max(pages, 1);
    const domMessages = await page.locator('article[data-message]').count();
    const loaded = await page.getByText(/\d[\d,]* loaded/).textContent();

    await page.goto(view('chat'));
    await page.getByText(last).waitFor();
    const chatLatency: number[] = [];
    for (let i = 0; i < 10; i++) {
      const body = `bench live ${i} ${randomUUID()}`;
      chatLatency.push(
        await update(
          page,
          () => agents[1]!.send('commander', body),
          () => page.getByText(body).waitFor(),
        ),
      );
    }

    await page.goto(view('agents'));
    await page
      .locator('li[data-agent]')
      .nth(names.length - 1)
      .waitFor();
    const statusLatency: number[] = [];
    for (let i = 0; i < 10; i++) {
      const a = agents[2 + i]!;
      const status = i % 2 === 0 ? 'working' : 'idle';
      statusLatency.push(
        await update(
          page,
          () => a.heartbeat(status),
          () => page.getByRole('listitem', { name: new RegExp(`^${a.name}, ${status}`) }).waitFor(),
        ),
      );
    }

    await page.goto(view('graph'));
    await page
      .locator('.react-flow__node')
      .nth(names.length - 1)
      .waitFor();
    const edgeLatency: number[] = [];
    for (let i = 0; i < 5; i++) {
      edgeLatency.push(
        await update(
          page,
          () => agents[0]!.send(names[1] as string, `edge ${i}`),
          () => page.locator('.react-flow__edge.lit').first().waitFor(),
        ),
      );
      await page.locator('.react-flow__edge.lit').first().waitFor({ state: 'detached', timeout: 10_000 });
    }

    await page.goto(view('tasks'));
    await page.getByText('task 119', { exact: true }).waitFor();
    const taskLatency: number[] = [];
    for (let i = 0; i < 5; i++) {
      const title = `live task ${i}`;
      taskLatency.push(
        await update(
          page,
          () => c.createTask(PROJECT, { title }),
          () => page.getByText(title, { exact: true }).waitFor(),
        ),
      );
    }
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = await cdp.send('Performance.getMetrics');
    const heap = metrics.metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;

    process.stdout.write(
      `\nMeshCode dashboard benchmark: ${names.length} agents, ${env.BENCH_MESSAGES.toLocaleString()} messages, Chromium, embedded PGlite\n`,
    );
    process.stdout.write(
      `seeding: agents ${ms(seedAgents)}, messages ${ms(seedMessages)} (${((env.BENCH_MESSAGES / seedMessages) * 1000).toFixed(0)}/s through RPC)\n\n`,
    );
    process.stdout.write('hub calls behind the views (median of 5)\n');
    for (const [name, v] of api) process.stdout.write(`  ${name.padEnd(26)} ${ms(v)}\n`);
    process.stdout.write('\nfirst load (navigation to content shown)\n');
    for (const [name, v] of loads) process.stdout.write(`  ${name.padEnd(22)} ${ms(v)}\n`);
    process.stdout.write(
      `  chat, older page (100)  ${ms(olderPages)}   (${loaded}; ${domMessages} message elements in the DOM)\n`,
    );
    process.stdout.write('\nlive updates (change made through the API -> shown in the page), median / max of runs\n');
    for (const [name, xs] of [
      ['chat message', chatLatency],
      ['agent status', statusLatency],
      ['graph edge lights', edgeLatency],
      ['task on the board', taskLatency],
    ] as const) {
      process.stdout.write(`  ${name.padEnd(22)} ${ms(median(xs))} / ${ms(Math.max(...xs))}\n`);
    }
    process.stdout.write(`\npage JS heap after the run: ${(heap / 1024 / 1024).toFixed(1)} MB\n`);
    await context.close();
  } catch (err) {
    for (const p of browser.contexts().flatMap((c) => c.pages()))
      await p.screenshot({ path: join(REPO, 'test-results', 'bench-failure.png') }).catch(() => undefined);
    throw err;
  } finally {
    await Promise.all(agents.map((a) => a.disconnect()));
    await browser.close();
    await hub.dispose();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
