// Which of a worker's event rules an incoming event matches: source, "event[.action]" and field filters.
import type { EventRule, FilterMatcher, WorkerDefinition } from './definition';

export interface IncomingEvent {
  source: string;
  /** Provider event name, e.g. "pull_request", "push", "app_mention". */
  event: string;
  /** Provider action when there is one, e.g. "opened". */
  action?: string | undefined;
  payload: unknown;
}

/** Every rule of the worker that matches (not only the first): each one becomes its own task. */
export function matchingRules(worker: Pick<WorkerDefinition, 'events'>, incoming: IncomingEvent): EventRule[] {
  return worker.events.filter((rule) => ruleMatches(rule, incoming));
}

export function ruleMatches(rule: EventRule, incoming: IncomingEvent): boolean {
  return (
    rule.source === incoming.source &&
    rule.on.some((pattern) => onMatches(pattern, incoming.event, incoming.action)) &&
    filterMatches(rule.filter, incoming.payload)
  );
}

/** "*" matches all, "push" any push, "pull_request.opened" only that action, "issues.*" any issues action. */
export function onMatches(pattern: string, event: string, action?: string): boolean {
  if (pattern === '*') return true;
  const dot = pattern.indexOf('.');
  if (dot === -1) return pattern === event;
  const wantedAction = pattern.slice(dot + 1);
  return pattern.slice(0, dot) === event && (wantedAction === '*' || wantedAction === action);
}

/** All matchers must hold. A "*" path segment fans out over a list ("pull_request.labels.*.name"). */
export function filterMatches(filter: Record<string, FilterMatcher> | undefined, payload: unknown): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([path, matcher]) => matches(resolve(payload, path.split('.')), matcher));
}

type Scalar = string | number | boolean | null;

function resolve(value: unknown, path: string[]): unknown {
  let current: unknown[] = [value];
  let fannedOut = false;
  for (const segment of path) {
    const next: unknown[] = [];
    for (const item of current) {
      if (segment === '*' && Array.isArray(item)) {
        next.push(...(item as unknown[]));
      } else if (item !== null && typeof item === 'object' && Object.hasOwn(item, segment)) {
        next.push((item as Record<string, unknown>)[segment]);
      }
    }
    if (segment === '*') fannedOut = true;
    current = next;
  }
  return fannedOut ? current : current[0];
}

function same(a: unknown, b: Scalar): boolean {
  return b === null ? a === null || a === undefined : a === b;
}

function matches(value: unknown, matcher: FilterMatcher): boolean {
  const list = Array.isArray(value) ? (value as unknown[]) : undefined;
  const has = (wanted: Scalar) => (list ? list.some((item) => same(item, wanted)) : same(value, wanted));
  if (matcher === null || typeof matcher !== 'object') return has(matcher);
  if (Array.isArray(matcher)) return matcher.some(has);
  const checks: boolean[] = [];
  if (matcher.equals !== undefined) checks.push(has(matcher.equals));
  if (matcher.in !== undefined) checks.push(matcher.in.some(has));
  if (matcher.not !== undefined) checks.push(!has(matcher.not));
  if (matcher.not_in !== undefined) checks.push(!matcher.not_in.some(has));
  if (matcher.contains !== undefined) {
    const needle = matcher.contains;
    checks.push(list ? list.some((item) => item === needle) : typeof value === 'string' && value.includes(needle));
  }
  if (matcher.matches !== undefined) {
    const regex = new RegExp(matcher.matches);
    const candidates = list ?? [value];
    checks.push(
      candidates.some((item) => (typeof item === 'string' || typeof item === 'number') && regex.test(String(item))),
    );
  }
  if (matcher.exists !== undefined) {
    const present = list ? list.length > 0 : value !== undefined && value !== null;
    checks.push(present === matcher.exists);
  }
  return checks.every(Boolean);
}
