// Worker definition files (YAML): the zod schema, and parsing that reports file, line and field for every problem.
import { readFile } from 'node:fs/promises';
import { Cron } from 'croner';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { findCredentials, looksLikeCredential } from './redact';
import { parseTemplate } from './template';

// ---------------------------------------------------------------------------------------------------------------
// Value types

/** The longest timeout Node.js timers (and the SQL int columns that store it) can hold: 2^31 - 1 ms, about 24.8 days. */
export const MAX_DURATION_MS = 2_147_483_647;
/** The largest whole number the hub's SQL int columns hold (limits and schedule counters). */
const MAX_INT = 2_147_483_647;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const DURATION_ANY_CASE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i;
const DURATION_HINT = 'must be a duration such as 30s, 10m or 1h (a bare number means seconds)';
const DURATION_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function formatMs(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

/**
 * "30s", "10m", "1h", "500ms", or a number of seconds (30, or quoted "30"); parsed to whole milliseconds, at least
 * `minMs` and at most MAX_DURATION_MS.
 */
const duration = (minMs: number) =>
  z.union([z.number(), z.string()], { error: DURATION_HINT }).transform((value, ctx) => {
    let ms: number;
    if (typeof value === 'number') {
      ms = Math.round(value * 1_000);
    } else {
      const match = DURATION.exec(value.trim());
      if (!match) {
        ctx.addIssue({
          code: 'custom',
          message: DURATION_ANY_CASE.test(value.trim())
            ? `${DURATION_HINT}; units are lowercase: ms, s, m (minutes), h, d`
            : DURATION_HINT,
        });
        return z.NEVER;
      }
      const [, amount, unit] = match as unknown as [string, string, keyof typeof DURATION_MS | undefined];
      ms = Math.round(Number(amount) * DURATION_MS[unit ?? 's']);
    }
    if (ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatMs(minMs)}` });
      return z.NEVER;
    }
    if (ms > MAX_DURATION_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most 24.8 days (${MAX_DURATION_MS} ms); 24d is the most in whole days`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** The hub raises a run's timeout below one second to one second (mesh.create_run), so a shorter one is refused. */
const MIN_TIMEOUT_MS = 1_000;

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_HINT = 'must be a size such as 64k, 512m or 4g';
const SIZE_FACTOR: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2 };
SIZE_FACTOR['mib'] = 1024 ** 2;
SIZE_FACTOR['g'] = SIZE_FACTOR['gb'] = SIZE_FACTOR['gib'] = 1024 ** 3;

/** "512m", "4g", "64k" or a number of bytes; parsed to bytes (binary units), at least 1. */
const byteSize = z
  .union([z.number().int(), z.string().regex(SIZE, { error: SIZE_HINT })], { error: SIZE_HINT })
  .transform((value, ctx) => {
    const bytes =
      typeof value === 'number'
        ? value
        : (() => {
            const [, amount, unit] = SIZE.exec(value) as unknown as [string, string, string | undefined];
            return Math.round(Number(amount) * (SIZE_FACTOR[(unit ?? 'b').toLowerCase()] ?? 1));
          })();
    if (bytes < 1) {
      ctx.addIssue({ code: 'custom', message: 'must be at least 1 byte, such as 64k, 512m or 4g' });
      return z.NEVER;
    }
    return bytes;
  });

/** A whole number from 1 to what the hub's SQL int columns hold. */
const count = () => z.number().int().positive().max(MAX_INT);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME, { error: 'must be an environment variable name such as API_KEY' });

/** The name of a secret in secrets.yml ("openai.default"), never the secret itself. */
export const secretRef = z.string().superRefine((value, ctx) => {
  if (looksLikeCredential(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'looks like a credential; put the value in secrets.yml and write its name here (e.g. openai.default)',
    });
  } else if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be a secret name from secrets.yml such as "openai.default"' });
  }
});

const absolutePath = z
  .string()
  .min(1)
  .refine((value) => value.startsWith('/') || value === '~' || value.startsWith('~/'), {
    error: 'must be an absolute path or start with ~/',
  });

const httpUrl = z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
  error: 'must be an http:// or https:// URL',
});

const argv = z
  .union([z.array(z.string().min(1)).min(1), z.string().trim().min(1)], {
    error: 'must be a command line, as a list of arguments or one string',
  })
  .transform((value) => (typeof value === 'string' ? value.split(/\s+/) : value));

const template = z.string().superRefine((value, ctx) => {
  const parsed = parseTemplate(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `is not a valid template: ${parsed.error}` });
});

const price = z.strictObject({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
});

// ---------------------------------------------------------------------------------------------------------------
// Drivers

export const DRIVERS = ['exec', 'docker', 'openai', 'ollama', 'http'] as const;
export type DriverKind = (typeof DRIVERS)[number];

const execSection = z.strictObject({
  command: argv,
  cwd: absolutePath.optional(),
  max_output_bytes: byteSize.default(1024 * 1024),
});

const dockerSection = z
  .strictObject({
    image: z.string().min(1),
    command: argv.optional(),
    cwd: absolutePath.optional(),
    mode: z.enum(['oneshot', 'long-lived']).default('oneshot'),
    cpus: z.number().positive().max(256).default(2),
    memory: byteSize.default(4 * 1024 ** 3),
    pids: z.number().int().positive().default(512),
    network: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'must be a Docker network name such as bridge or none' })
      .default('bridge'),
    user: z
      .string()
      .regex(/^\d+(?::\d+)?$/, { error: 'must be uid or uid:gid' })
      .optional(),
    pull: z.enum(['missing', 'never']).default('missing'),
    max_output_bytes: byteSize.default(1024 * 1024),
  })
  .superRefine((section, ctx) => {
    // A long-lived container idles on `sleep infinity` (its entrypoint replaced), so each task needs a command to exec.
    if (section.mode === 'long-lived' && !section.command) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message:
          "is required with mode: long-lived (each task runs it with docker exec in the idle container); add the command, e.g. command: [claude, -p], or use mode: oneshot to run the image's own command",
      });
    }
  });

const openaiSection = z.strictObject({
  base_url: httpUrl,
  api_key: secretRef.optional(),
  price: price.optional(),
  system: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
});

const ollamaSection = z.strictObject({
  base_url: httpUrl.default('http://127.0.0.1:11434'),
  system: z.string().optional(),
  price: price.optional(),
});

const httpSection = z.strictObject({
  url: httpUrl,
  api_key: secretRef.optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// Events, policy, schedule, limits

export const SOURCES = ['github', 'gitlab', 'slack', 'telegram', 'generic', 'standard'] as const;
export type SourceName = (typeof SOURCES)[number];

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const matcher = z.union(
  [
    scalar,
    z.array(scalar).min(1),
    z
      .strictObject({
        equals: scalar.optional(),
        in: z.array(scalar).min(1).optional(),
        not: scalar.optional(),
        not_in: z.array(scalar).min(1).optional(),
        contains: z.string().optional(),
        matches: z
          .string()
          .refine(
            (value) => {
              try {
                new RegExp(value);
                return true;
              } catch {
                return false;
              }
            },
            { error: 'is not a valid regular expression' },
          )
          .optional(),
        exists: z.boolean().optional(),
      })
      .refine((value) => Object.keys(value).length > 0, {
        error: 'needs one of equals, in, not, not_in, contains, matches, exists',
      }),
  ],
  { error: 'must be a value, a list of values, or a matcher such as { not: x } or { matches: "^release/" }' },
);
export type FilterMatcher = z.output<typeof matcher>;

const EVENT_PATTERN = /^(?:\*|[A-Za-z0-9_ -]+(?:\.(?:\*|[A-Za-z0-9_-]+))?)$/;
const eventName = z
  .string()
  .regex(EVENT_PATTERN, { error: 'must be an event, optionally with an action: push, pull_request.opened, issues.*' });

const eventRule = z.strictObject({
  source: z.enum(SOURCES),
  on: z
    .union([eventName, z.array(eventName).min(1)], { error: 'must be an event name or a list of event names' })
    .transform((value) => (typeof value === 'string' ? [value] : value)),
  filter: z.record(z.string().min(1), matcher).optional(),
  prompt: template,
  /** false: create the task on the board but do not dispatch it (a human or editor agent picks it up). */
  auto: z.boolean().default(true),
});
export type EventRule = z.output<typeof eventRule>;

/** `comment: true` is shorthand for `comment: { allow: true }`. */
const allowShorthand = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'boolean' ? { allow: value } : value), schema);

export const STATUS_STATES = ['error', 'failure', 'pending', 'success'] as const;

// Write-back is opt-in: a section that is absent allows nothing.
const policy = z.strictObject({
  comment: allowShorthand(
    z.strictObject({ allow: z.boolean().default(false), max_length: z.number().int().positive().default(65_536) }),
  ).default({ allow: false, max_length: 65_536 }),
  labels: allowShorthand(
    z.strictObject({
      allow: z.boolean().default(false),
      allowed: z.array(z.string().min(1)).optional(),
      blocked: z.array(z.string().min(1)).default([]),
    }),
  ).default({ allow: false, blocked: [] }),
  status: allowShorthand(
    z.strictObject({
      allow: z.boolean().default(false),
      states: z
        .array(z.enum(STATUS_STATES))
        .min(1)
        .default([...STATUS_STATES]),
      context: z.string().min(1).optional(),
    }),
  ).default({ allow: false, states: [...STATUS_STATES] }),
  commit: allowShorthand(
    z.strictObject({ allow: z.boolean().default(false), max_size: byteSize.default(64 * 1024) }),
  ).default({ allow: false, max_size: 64 * 1024 }),
  metadata: allowShorthand(z.strictObject({ allow: z.boolean().default(true) })).default({ allow: true }),
});
export type WorkerPolicy = z.output<typeof policy>;

const scheduleEntry = z
  .strictObject({
    cron: z.string().min(1),
    timezone: z.string().min(1).optional(),
    prompt: template,
    max_runs_per_day: count().default(50),
    timeout: duration(MIN_TIMEOUT_MS).prefault('10m'),
    pause_after_errors: count().default(5),
    skip_when_busy: z.boolean().default(true),
  })
  .superRefine((entry, ctx) => {
    try {
      // croner checks the time zone only when it computes a run.
      const job = new Cron(entry.cron, { paused: true, timezone: entry.timezone });
      job.nextRun();
      job.stop();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const onTimezone = /time ?zone/i.test(message);
      ctx.addIssue({
        code: 'custom',
        path: [onTimezone ? 'timezone' : 'cron'],
        message: onTimezone
          ? 'is not a known IANA time zone such as Europe/Paris'
          : `is not a valid cron expression (${message.replace(/^CronPattern: /, '')})`,
      });
    }
  });
export type ScheduleEntry = z.output<typeof scheduleEntry>;

const limits = z.strictObject({
  concurrency: count().default(1),
  rate_per_minute: count().default(60),
  daily_cost_usd: z.number().nonnegative().optional(),
  task_timeout: duration(MIN_TIMEOUT_MS).prefault('10m'),
  max_attempts: z.number().int().min(1).max(20).default(3),
});
export type WorkerLimits = z.output<typeof limits>;

// ---------------------------------------------------------------------------------------------------------------
// The worker

const common = {
  // The hub's mesh.check_name, which stores the name lowercased: ^[a-z0-9][a-z0-9._-]{0,62}$, and not "overseer".
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
      error: 'must be 1-63 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
    })
    .refine((value) => value.toLowerCase() !== 'overseer', {
      error: 'is reserved: "overseer" names the person overseeing the project in every message; choose another name',
    }),
  description: z.string().optional(),
  model: z.string().min(1).optional(),
  env: z
    .record(
      envName,
      z
        .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })
        .transform(String),
    )
    .superRefine((env, ctx) => {
      for (const [key, value] of Object.entries(env)) {
        if (looksLikeCredential(value)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'looks like a credential; put it in secrets.yml and map it under tokens instead',
          });
        }
      }
    })
    .default({}),
  /** Environment variable name -> secret name in secrets.yml. */
  tokens: z.record(envName, secretRef).default({}),
  events: z.array(eventRule).default([]),
  policy: policy.default(policy.parse({})),
  schedule: z
    .preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(scheduleEntry))
    .default([]),
  limits: limits.default(limits.parse({})),
};

export const workerSchema = z
  .discriminatedUnion(
    'driver',
    [
      z.strictObject({ ...common, driver: z.literal('exec'), exec: execSection }),
      z.strictObject({ ...common, driver: z.literal('docker'), docker: dockerSection }),
      z.strictObject({ ...common, driver: z.literal('openai'), openai: openaiSection }),
      z.strictObject({
        ...common,
        driver: z.literal('ollama'),
        ollama: ollamaSection.default(ollamaSection.parse({})),
      }),
      z.strictObject({ ...common, driver: z.literal('http'), http: httpSection }),
    ],
    { error: `must be one of ${DRIVERS.join(', ')}` },
  )
  .superRefine((worker, ctx) => {
    if ((worker.driver === 'openai' || worker.driver === 'ollama') && !worker.model) {
      ctx.addIssue({ code: 'custom', path: ['model'], message: `is required for the ${worker.driver} driver` });
    }
  });

export type WorkerDefinition = z.output<typeof workerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Parsing with positions

export interface WorkerFileIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted field path, e.g. "docker.image" or "events.0.on"; empty for the whole document. */
  field: string;
  message: string;
}

export type ParseWorkerResult =
  { ok: true; worker: WorkerDefinition } | { ok: false; issues: WorkerFileIssue[]; message: string };

export function formatIssue(issue: WorkerFileIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.field ? `${where}: ${issue.field} ${issue.message}` : `${where}: ${issue.message}`;
}

function failed(issues: WorkerFileIssue[]): ParseWorkerResult {
  return { ok: false, issues, message: issues.map(formatIssue).join('\n') };
}

export async function parseWorkerFile(path: string): Promise<ParseWorkerResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return failed([
      {
        file: path,
        line: 1,
        column: 1,
        field: '',
        message: `cannot be read (${code}); check the path and permissions`,
      },
    ]);
  }
  return parseWorkerYaml(text, path);
}

export function parseWorkerYaml(text: string, fileName: string): ParseWorkerResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return failed(
      doc.errors.map((error) => {
        const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
        return {
          file: fileName,
          line: pos.line,
          column: pos.col,
          field: '',
          message: `is not valid YAML: ${error.message.split('\n')[0] ?? error.code}`,
        };
      }),
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) {
    return failed([
      { file: fileName, line: 1, column: 1, field: '', message: 'is empty; a worker needs at least name and driver' },
    ]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    return failed([
      { file: fileName, line: 1, column: 1, field: '', message: 'must be a mapping with name, driver and so on' },
    ]);
  }
  const parsed = workerSchema.safeParse(data, { error: describeIssue });
  const issues: WorkerFileIssue[] = [];
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const known = knownKeys(path, data);
        const suggestion = closest(key, known);
        issues.push(
          position(doc, lineCounter, fileName, [...path, key], {
            message: suggestion
              ? `is not a known field; did you mean "${suggestion}"?`
              : `is not a known field${known.length ? ` (expected one of ${known.join(', ')})` : ''}`,
            onKey: true,
          }),
        );
      }
      continue;
    }
    issues.push(position(doc, lineCounter, fileName, path, { message: issue.message, onKey: false }));
  }
  // The hub refuses a definition in which any value looks like a credential (findCredentials), not only the fields
  // the schema checks; say so here, once per value, with its line.
  const reported = new Set(issues.map((issue) => issue.field));
  for (const path of findCredentials(data)) {
    if (reported.has(path.join('.'))) continue;
    issues.push(position(doc, lineCounter, fileName, path, { message: CREDENTIAL_HINT, onKey: false }));
  }
  if (parsed.success && issues.length === 0) return { ok: true, worker: parsed.data };
  issues.sort((a, b) => a.line - b.line || a.column - b.column);
  return failed(issues);
}

const CREDENTIAL_HINT =
  'looks like a credential; the hub refuses a worker file with one in any field: keep secrets in secrets.yml, refer to them by name (tokens, api_key), and reword text such as "password: ..."';

/** Zod's generic messages rephrased as predicates that follow the field name ("docker.cpus must be a number"). */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${article(issue.expected)}, not ${describeInput(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} item(s)`;
      return issue.inclusive === false
        ? `must be greater than ${String(issue.minimum)}`
        : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return issue.inclusive === false
        ? `must be less than ${String(issue.maximum)}`
        : `must be at most ${String(issue.maximum)}`;
    default:
      return undefined;
  }
}

function article(expected: string): string {
  if (expected === 'object') return 'a mapping';
  if (expected === 'array') return 'a list';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return typeof input;
}

function position(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  path: (string | number)[],
  { message, onKey }: { message: string; onKey: boolean },
): WorkerFileIssue {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  let reached = 0;
  for (const segment of path) {
    if (isMap(node)) {
      if (typeof segment === 'number' && segment === 0) {
        // A single mapping written where a list is accepted ("schedule:" as one entry).
        reached += 1;
        continue;
      }
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const keyStart = rangeStart(pair.key);
      const valueStart = rangeStart(pair.value);
      // Point at a scalar value; for a missing value, a block value or a field-name problem, at the key.
      const last = reached + 1 === path.length;
      offset = (last && !onKey && isScalar(pair.value) ? valueStart : keyStart) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
    reached += 1;
  }
  const pos = lineCounter.linePos(offset);
  return { file, line: pos.line, column: pos.col, field: path.join('.'), message };
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}

/** Field names the schema accepts at `path`, for "did you mean" suggestions. */
function knownKeys(path: (string | number)[], data: unknown): string[] {
  let schemas: z.ZodType[] = [workerSchema];
  let value: unknown = data;
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const schema of schemas.flatMap((s) => objectsOf(s, value))) {
      if (schema instanceof z.ZodObject && typeof segment === 'string') {
        const child = (schema.shape as Record<string, z.ZodType | undefined>)[segment];
        if (child) next.push(child);
      } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
        next.push(schema.element as z.ZodType);
      } else if (schema instanceof z.ZodRecord) {
        next.push(schema.valueType as z.ZodType);
      }
    }
    schemas = next;
    value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[segment] : undefined;
  }
  const keys = new Set<string>();
  for (const schema of schemas.flatMap((s) => objectsOf(s, value))) {
    if (schema instanceof z.ZodObject) for (const key of Object.keys(schema.shape)) keys.add(key);
  }
  return [...keys];
}

/** Unwraps optional/default/pipe/union layers down to the object, array or record schemas below. */
function objectsOf(schema: z.ZodType, value: unknown): z.ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)
    return objectsOf(schema.unwrap() as z.ZodType, value);
  if (schema instanceof z.ZodPipe) {
    const inner = schema.in instanceof z.ZodTransform ? schema.out : schema.in;
    return objectsOf(inner as z.ZodType, value);
  }
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const driver = value && typeof value === 'object' ? (value as Record<string, unknown>)['driver'] : undefined;
    const options = schema.options as z.ZodType[];
    const matching = options.filter(
      (option) =>
        option instanceof z.ZodObject &&
        (option.shape as Record<string, z.ZodType>)['driver'] instanceof z.ZodLiteral &&
        ((option.shape as Record<string, z.ZodType>)['driver'] as z.ZodLiteral).value === driver,
    );
    return (matching.length ? matching : options).flatMap((option) => objectsOf(option, value));
  }
  if (schema instanceof z.ZodUnion)
    return (schema.options as z.ZodType[]).flatMap((option) => objectsOf(option, value));
  if (schema instanceof z.ZodObject || schema instanceof z.ZodArray || schema instanceof z.ZodRecord) return [schema];
  return [];
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
