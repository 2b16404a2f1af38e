// How deeply user JSON may nest. JSON.parse does not recurse, but JSON.stringify, replacers, redaction and template
// rendering do: a body nested a few thousand levels deep overflows the stack ("Maximum call stack size exceeded").
// Every body is checked once, right after parsing, with a loop (never recursion), and refused above the limit.
// PostgreSQL's jsonb, with the default max_stack_depth of 2 MB, takes about 10,000 levels (PostgreSQL 15 and PGlite
// both refuse 20,000 with 54001), so nothing the hub accepts fails in the database either.

/** Objects and arrays nest at most this many levels; a body's own object is the first. */
export const MAX_JSON_DEPTH = 256;

/** Whether a parsed JSON value nests objects and arrays more than `limit` levels deep (the value itself is level 1). */
export function nestsDeeperThan(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (limit < 1) return true;
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const current = values.pop()!;
    const depth = depths.pop()!;
    const children: unknown[] = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (child === null || typeof child !== 'object') continue;
      if (depth >= limit) return true;
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

/** The sentence a refusal says; `what` names the JSON ("request body", "the delivery"). */
export function tooDeepMessage(what: string): string {
  return `${what} is nested too deeply: JSON objects and arrays may nest at most ${MAX_JSON_DEPTH} levels`;
}
