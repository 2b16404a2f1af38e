// Edits of TOML config files (Codex) that leave every other line alone: MeshCode's tables are cut out of the text and
// its freshly rendered block put in their place, then both documents are parsed to prove nothing else moved.
import { parse, stringify, TomlError } from 'smol-toml';
import { EditorConfigError } from './errors';
import { sameValue as same } from './same';

export interface TomlTarget {
  file: string;
  serversKey: string;
  name: string;
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function parseDocument(text: string, target: TomlTarget): Table {
  try {
    return parse(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw new EditorConfigError(
      'malformed',
      `${target.file} is not valid TOML${where}; fix it or move it aside, then run this again.`,
    );
  }
}

function servers(doc: Table, target: TomlTarget): Table | undefined {
  const value = doc[target.serversKey];
  if (value === undefined) return undefined;
  if (!isTable(value)) {
    throw new EditorConfigError(
      'malformed',
      `"${target.serversKey}" in ${target.file} is not a table; fix it, then run this again.`,
    );
  }
  return value;
}

/** Splits a table header's dotted key (`a."b.c".d`) into its parts; null when it is not one we can read. */
function headerKey(line: string): string[] | null {
  const match = /^\s*\[\[?(.*?)\]\]?\s*(?:#.*)?$/.exec(line);
  if (match?.[1] === undefined) return null;
  const parts: string[] = [];
  const re = /\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(\.|$)/y;
  const src = match[1];
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m === null) return null;
    if (m[1] !== undefined) parts.push(m[1]);
    else if (m[2] !== undefined) parts.push(JSON.parse(`"${m[2]}"`) as string);
    else parts.push(m[3] ?? '');
    pos = re.lastIndex;
    if (m[4] === '') break;
  }
  return parts;
}

/** Line ranges [start, end) of the tables that belong to MeshCode's entry, without trailing blanks or comments. */
function entrySpans(lines: string[], target: TomlTarget): [number, number][] {
  const headers: { index: number; ours: boolean }[] = [];
  let openQuote: string | null = null;
  lines.forEach((line, index) => {
    if (openQuote === null && /^\s*\[/.test(line)) {
      const key = headerKey(line);
      headers.push({ index, ours: key !== null && key[0] === target.serversKey && key[1] === target.name });
    }
    // Lines inside multi-line strings are not headers, even when they start with '['.
    for (const m of line.matchAll(/"""|'''/g)) {
      if (openQuote === null) openQuote = m[0];
      else if (openQuote === m[0]) openQuote = null;
    }
  });
  const spans: [number, number][] = [];
  headers.forEach((header, i) => {
    if (!header.ours) return;
    let end = headers[i + 1]?.index ?? lines.length;
    while (end > header.index + 1 && /^\s*(#.*)?$/.test(lines[end - 1] ?? '')) end--;
    spans.push([header.index, end]);
  });
  return spans;
}

function withoutEntry(doc: Table, target: TomlTarget): Table {
  const copy: Table = { ...doc };
  const table = servers(doc, target);
  if (table !== undefined) {
    const rest = { ...table };
    delete rest[target.name];
    // An emptied (or implicitly created) [mcp_servers] table is the same document for every reader.
    if (Object.keys(rest).length === 0) delete copy[target.serversKey];
    else copy[target.serversKey] = rest;
  }
  return copy;
}

function splice(text: string, target: TomlTarget, block: string | null): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split('\n');
  const spans = entrySpans(lines, target);
  if (spans.length === 0) {
    if (block === null) return text;
    const blockText = block.split('\n').join(eol);
    if (text.trim() === '') return `${blockText}${eol}`;
    return `${text}${text.endsWith('\n') ? '' : eol}${eol}${blockText}${eol}`;
  }
  const out: string[] = [];
  let cursor = 0;
  const blank = (l: string) => l.trim() === '';
  spans.forEach(([start, end], i) => {
    const gap = lines.slice(cursor, start);
    if (i > 0 && gap.every(blank)) {
      // blank lines between two of our own tables go with them
    } else if (i === 0 && block === null && gap.length > 0 && blank(gap.at(-1) ?? '')) {
      out.push(...gap.slice(0, -1)); // the blank line that separated our tables from the rest
    } else {
      out.push(...gap);
    }
    if (i === 0 && block !== null) {
      const cr = lines[start]?.endsWith('\r') ? '\r' : '';
      out.push(...block.split('\n').map((l) => `${l}${cr}`));
    }
    cursor = end;
  });
  out.push(...lines.slice(cursor));
  return out.join('\n');
}

function unsupported(target: TomlTarget): EditorConfigError {
  return new EditorConfigError(
    'unsupported_shape',
    `${target.file} defines [${target.serversKey}.${target.name}] in a form MeshCode cannot edit without touching other settings (inline or dotted keys); remove that entry by hand and run this again.`,
  );
}

/**
 * Sets MeshCode's entry. `fields` are the keys MeshCode owns (undefined removes one); other keys of the entry (Codex's
 * per-tool approvals, timeouts) are kept.
 */
export function upsertTomlEntry(text: string | null, target: TomlTarget, fields: Record<string, unknown>): string {
  const body = text ?? '';
  const before = parseDocument(body, target);
  const old = servers(before, target)?.[target.name];
  const entry: Table = {};
  const ownedTables: Table = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (isTable(value)) ownedTables[key] = value;
    else entry[key] = value;
  }
  if (isTable(old)) {
    for (const [key, value] of Object.entries(old)) if (!(key in fields)) entry[key] = value;
  }
  Object.assign(entry, ownedTables);
  if (same(old, entry)) return body;
  const block = stringify({ [target.serversKey]: { [target.name]: entry } }).trimEnd();
  const next = splice(body, target, block);
  const after = parseNoThrow(next);
  if (
    after === null ||
    !same(withoutEntry(after, target), withoutEntry(before, target)) ||
    !same(servers(after, target)?.[target.name], entry)
  ) {
    throw unsupported(target);
  }
  return next;
}

/** Removes MeshCode's entry; null when there was none. */
export function removeTomlEntry(text: string, target: TomlTarget): string | null {
  const before = parseDocument(text, target);
  if (servers(before, target)?.[target.name] === undefined) return null;
  const next = splice(text, target, null);
  const after = parseNoThrow(next);
  if (after === null || !same(withoutEntry(after, target), withoutEntry(before, target))) throw unsupported(target);
  return next;
}

export function readTomlEntry(text: string, target: TomlTarget): unknown {
  return servers(parseDocument(text, target), target)?.[target.name];
}

function parseNoThrow(text: string): Table | null {
  try {
    return parse(text) as Table;
  } catch {
    return null;
  }
}
