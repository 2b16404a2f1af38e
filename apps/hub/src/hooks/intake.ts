// One webhook delivery: verify the raw body with the source's secret (fail closed without one), answer Slack's
// url_verification, parse, match every rule of every worker, and record the event with its tasks in ONE transaction
// (the unique delivery id is the dedup). The worker is woken through the bus after the commit; a worker idling in a
// waiting claim held by this hub gets its task claimed in that same transaction and handed to the held call.
import { redact } from '@meshcode/worker/core';
import { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepMessage } from '../http/json-depth';
import type { NormalizedEvent } from '../pipeline/normalize';
import { normalizeEvent, parsePayload, templateContext } from '../pipeline/normalize';
import { matchWorkers, type WorkerRow } from '../pipeline/match';
import type { Pipeline } from '../pipeline/service';
import type { RawNotes } from '../bus/notes';
import { isWebhookScheme, slackUrlVerification, verifiers, type WebhookScheme } from './verify/index';

export const HOOK_BODY_LIMIT = 5 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IntakeResult {
  status: number;
  body: unknown;
}

export interface HookTarget {
  meshwork_id: string;
  meshwork: string;
  secret: string | null;
  workers: WorkerRow[];
  /** A digest of all of the above, checked again by the delivery's transaction. */
  stamp: string;
}

/** mesh.hook_ingest_claim's answer, with what its transaction noted for after the commit. */
interface Ingested extends RawNotes {
  stale?: boolean;
  event_id: string;
  duplicate: boolean;
  state: string;
  tasks: { id: string; worker?: string; rule?: number; status?: string }[];
  claims?: { agent_id: string; result: { task: { id: string }; run: { attempt: number } } }[];
}

function failure(status: number, message: string, hint: string | null = null): IntakeResult {
  return { status, body: { code: `hook_${status}`, message, details: null, hint } };
}

/** An answer given before the delivery's transaction checked the target it came from. */
function early(result: IntakeResult): { result: IntakeResult; checked: boolean } {
  return { result, checked: false };
}

/** Postgres jsonb refuses NUL characters; they carry nothing a prompt needs. */
function jsonForDb(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? item.replace(/\0/g, '') : item));
}

/** The waiting call a claim was made for had ended: put the task back on the board and wake the worker. */
async function handBack(pipeline: Pipeline, taskId: string, attempt: number): Promise<void> {
  try {
    await pipeline.call('select mesh.worker_unclaim($1::uuid, $2) as r', [taskId, attempt]);
  } catch (err) {
    // The lease still runs out and the task is dispatched again then.
    pipeline.deps.log(`hooks: handing back task ${taskId} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function receiveDelivery(
  pipeline: Pipeline,
  params: { meshwork: string; source: string },
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
): Promise<IntakeResult> {
  const { meshwork, source } = params;
  if (!isWebhookScheme(source)) {
    return failure(
      404,
      `unknown webhook source "${source.slice(0, 40)}"`,
      'use github, gitlab, slack, telegram, generic or standard',
    );
  }
  if (!UUID.test(meshwork)) {
    return failure(404, 'webhook URLs name the project by its id', 'copy the URL mc_set_webhook_secret returned');
  }
  // The target (secret, workers) of the last delivery is reused. The delivery's transaction checks its stamp and says
  // "stale" when anything in it changed; the delivery is then verified and matched again on a fresh one. An answer
  // given before that check (a signature refused, say, right after the secret was rotated) is only trusted from a
  // fresh target.
  const targets = pipeline.hookTargets;
  const cacheKey = `${meshwork}\n${source}`;
  let target = targets.get(cacheKey);
  for (let attempt = 0; ; attempt++) {
    const fresh = target === undefined;
    if (!target) {
      const res = await pipeline.deps.db.query<{ t: HookTarget | null }>(
        'select mesh.hook_target_stamped($1::uuid, $2) as t',
        [meshwork, source],
      );
      target = res.rows[0]?.t ?? undefined;
      if (!target) {
        targets.delete(cacheKey);
        return failure(404, 'no project with this id', 'copy the URL mc_set_webhook_secret returned');
      }
      targets.set(cacheKey, target);
    }
    const outcome = await ingestWith(pipeline, source, target, headers, rawBody);
    if (outcome !== 'stale' && (outcome.checked || fresh)) return outcome.result;
    targets.delete(cacheKey);
    target = undefined;
    if (attempt === 3) return failure(503, "the project's webhook settings keep changing", 'send the delivery again');
  }
}

/** Verify, match and record one delivery against a target; 'stale' when the target changed since it was read. */
async function ingestWith(
  pipeline: Pipeline,
  source: WebhookScheme,
  target: HookTarget,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
): Promise<{ result: IntakeResult; checked: boolean } | 'stale'> {
  let secret: string | undefined;
  if (target.secret) {
    secret = pipeline.keys.decrypt(target.secret, `${source}:secret`);
    if (secret === undefined) {
      pipeline.deps.log(
        `hooks: the ${source} secret of ${target.meshwork} does not decrypt with this hub's master key`,
      );
      return early(
        failure(
          401,
          `the ${source} webhook secret of this project cannot be decrypted by this hub`,
          'set the secret again (mc_set_webhook_secret); every hub of one database needs the same MESHCODE_MASTER_KEY',
        ),
      );
    }
  }
  const verified = verifiers[source]({ headers, rawBody }, secret, pipeline.now);
  if (!verified.ok) return early(failure(verified.status, verified.reason));

  const challenge = slackUrlVerification(verified, rawBody);
  if (challenge) return early({ status: 200, body: challenge });

  const payload = parsePayload(source, rawBody);
  if (!payload)
    return early(failure(400, 'the body is not a JSON object', 'send the JSON payload the source documents'));
  // Checked once, here, before anything walks the payload (matching, rendering, jsonForDb): see json-depth.ts.
  if (nestsDeeperThan(payload)) {
    return early(
      failure(
        400,
        tooDeepMessage('the delivery'),
        `send the JSON payload the source documents, with at most ${MAX_JSON_DEPTH} levels of objects and arrays`,
      ),
    );
  }

  const normalized: NormalizedEvent = normalizeEvent(source, verified.event, payload);
  const context = templateContext(source, verified.deliveryId, normalized, payload);
  const { tasks, skipped } = matchWorkers(target.workers, source, normalized, payload, context);
  // A held task renders its prompt after hydration from this base plus the stored payload.
  const base = { ...context, event: undefined };
  const specs = tasks.map((t) => (t.hold ? { ...t, hold: { ...t.hold, base } } : t));

  const claimFor =
    pipeline.deps.claims?.takersOf(specs.filter((t) => !t.hold && t.assign).map((t) => t.worker_id)) ?? [];

  const ingested = await pipeline.deps.db.query<{ r: Ingested }>(
    'select mesh.hook_ingest_claim($1, $2::uuid[], $3::uuid, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12::jsonb, $13::jsonb) as r',
    [
      target.stamp,
      claimFor,
      target.meshwork_id,
      source,
      verified.deliveryId.slice(0, 300),
      normalized.event.slice(0, 200),
      normalized.action ?? null,
      redact(normalized.summary),
      JSON.stringify(normalized.subject),
      jsonForDb(payload),
      rawBody.length,
      jsonForDb(specs),
      JSON.stringify(skipped.map((s) => ({ ...s, reason: redact(s.reason).slice(0, 300) }))),
    ],
  );
  const r = ingested.rows[0]?.r;
  if (!r) throw new Error('mesh.hook_ingest_claim returned nothing');
  if (r.stale) return 'stale';
  // A claim no held call could take goes back on the board before anyone is woken, so the wake-up finds it open.
  for (const c of r.claims ?? []) {
    if (!pipeline.deps.claims?.hand(c.agent_id, c.result))
      await handBack(pipeline, c.result.task.id, c.result.run.attempt);
  }
  pipeline.deps.publish(r);
  if (specs.some((t) => t.hold)) pipeline.poke('hydration');
  return {
    result: {
      status: r.duplicate ? 200 : 202,
      body: { event_id: r.event_id, duplicate: r.duplicate, state: r.state, tasks: r.tasks },
    },
    checked: true,
  };
}
