// Surgical edits of JSON / JSONC config files: only MeshCode's entry changes; every other byte (comments, key order,
// indentation) stays where it was.
import {
  applyEdits,
  findNodeAtLocation,
  getNodeValue,
  modify,
  parseTree,
  printParseErrorCode,
  type FormattingOptions,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import { EditorConfigError } from './errors';
import { sameValue } from './same';

export interface JsonTarget {
  file: string;
  /** JSONC allows comments and trailing commas (VS Code); plain JSON refuses them like the editor would. */
  jsonc: boolean;
  serversKey: string;
  name: string;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Parses the file, refusing anything MeshCode would have to clobber to edit. Undefined means empty. */
function parseRoot(text: string, target: JsonTarget): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, {
    disallowComments: !target.jsonc,
    allowTrailingComma: target.jsonc,
    allowEmptyContent: true,
  });
  const first = errors[0];
  if (first !== undefined) {
    throw new EditorConfigError(
      'malformed',
      `${target.file} is not valid ${target.jsonc ? 'JSON with comments' : 'JSON'} (${printParseErrorCode(first.error)} at ${lineAndColumn(text, first.offset)}); fix it or move it aside, then run this again.`,
    );
  }
  if (root === undefined) return undefined;
  if (root.type !== 'object') {
    throw new EditorConfigError(
      'malformed',
      `${target.file} must hold a JSON object at the top; fix it or move it aside.`,
    );
  }
  const servers = findNodeAtLocation(root, [target.serversKey]);
  if (servers !== undefined && servers.type !== 'object') {
    throw new EditorConfigError(
      'malformed',
      `"${target.serversKey}" in ${target.file} is not an object; fix it or move the file aside, then run this again.`,
    );
  }
  return root;
}

function formatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /^([ \t]+)\S/m.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent?.length ?? 2, eol };
}

function unit(options: FormattingOptions): string {
  return options.insertSpaces === false ? '\t' : ' '.repeat(options.tabSize ?? 2);
}

/** The whitespace that opens the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '';
}

function render(key: string, value: unknown, indent: string, options: FormattingOptions): string {
  const json = JSON.stringify(value, null, unit(options)).replace(/\n/g, `${options.eol ?? '\n'}${indent}`);
  return `${JSON.stringify(key)}: ${json}`;
}

/**
 * Adds a property to an object laid out one property per line, touching no other byte (jsonc-parser's own formatter
 * would re-indent the neighbouring line). Null when the object is laid out some other way.
 */
function insertProperty(
  text: string,
  object: Node,
  key: string,
  value: unknown,
  options: FormattingOptions,
): string | null {
  const eol = options.eol ?? '\n';
  const children = object.children ?? [];
  const last = children.at(-1);
  if (last === undefined) {
    const inner = text.slice(object.offset + 1, object.offset + object.length - 1);
    if (inner.trim() !== '') return null;
    const outer = lineIndent(text, object.offset);
    const prop = render(key, value, outer + unit(options), options);
    return `${text.slice(0, object.offset + 1)}${eol}${outer}${unit(options)}${prop}${eol}${outer}${text.slice(object.offset + object.length - 1)}`;
  }
  const lineStart = text.lastIndexOf('\n', last.offset - 1) + 1;
  if (lineStart <= object.offset) return null; // first property shares the line with the opening brace
  const indent = lineIndent(text, last.offset);
  const end = last.offset + last.length;
  return `${text.slice(0, end)},${eol}${indent}${render(key, value, indent, options)}${text.slice(end)}`;
}

/** Removes a property with the separator that joined it to its neighbour: the inverse of insertProperty. */
function removeProperty(text: string, object: Node, property: Node): string {
  const children = object.children ?? [];
  const index = children.indexOf(property);
  const previous = children[index - 1];
  const next = children[index + 1];
  if (previous !== undefined) {
    return text.slice(0, previous.offset + previous.length) + text.slice(property.offset + property.length);
  }
  if (next !== undefined) return text.slice(0, property.offset) + text.slice(next.offset);
  return text.slice(0, object.offset + 1) + text.slice(object.offset + object.length - 1);
}

/**
 * Sets MeshCode's entry. `fields` are the keys MeshCode owns (undefined removes one); other keys the user or the
 * editor added to the entry (disabled, alwaysAllow...) are kept. Returns the new text.
 */
export function upsertJsonEntry(text: string | null, target: JsonTarget, fields: Record<string, unknown>): string {
  const owned = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const body = text ?? '';
  const root = parseRoot(body, target);
  if (root === undefined) {
    const fresh = `${JSON.stringify({ [target.serversKey]: { [target.name]: owned } }, null, 2)}\n`;
    // A JSONC file may hold only comments: keep them above the new content.
    return body.trim() === '' ? fresh : `${body.trimEnd()}\n${fresh}`;
  }
  const fmt = formatting(body);
  const options = { formattingOptions: fmt };
  const entryPath = [target.serversKey, target.name];
  const entry = findNodeAtLocation(root, entryPath);
  if (entry === undefined || entry.type !== 'object') {
    const servers = findNodeAtLocation(root, [target.serversKey]);
    const inserted =
      entry !== undefined
        ? null
        : servers === undefined
          ? insertProperty(body, root, target.serversKey, { [target.name]: owned }, fmt)
          : insertProperty(body, servers, target.name, owned, fmt);
    return inserted ?? applyEdits(body, modify(body, entryPath, owned, options));
  }
  let next = body;
  for (const [key, value] of Object.entries(fields)) {
    const current = findNodeAtLocation(entry, [key]);
    const currentValue: unknown = current === undefined ? undefined : getNodeValue(current);
    if (sameValue(currentValue, value)) continue;
    next = applyEdits(next, modify(next, [...entryPath, key], value, options));
  }
  return next;
}

/** Removes MeshCode's entry; null when there was none (the file stays untouched). */
export function removeJsonEntry(text: string, target: JsonTarget): string | null {
  const root = parseRoot(text, target);
  const servers = root === undefined ? undefined : findNodeAtLocation(root, [target.serversKey]);
  const property = servers?.children?.find((p) => p.children?.[0]?.value === target.name);
  if (servers === undefined || property === undefined) return null;
  return removeProperty(text, servers, property);
}

/** MeshCode's entry as stored, or undefined. */
export function readJsonEntry(text: string, target: JsonTarget): unknown {
  const root = parseRoot(text, target);
  const entry = root === undefined ? undefined : findNodeAtLocation(root, [target.serversKey, target.name]);
  return entry === undefined ? undefined : getNodeValue(entry);
}
