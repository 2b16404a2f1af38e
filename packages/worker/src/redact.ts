// Masks credential shapes in text bound for logs and the activity feed. Patterns err towards masking.

interface Pattern {
  kind: string;
  regex: RegExp;
  /** Replacement; defaults to "[REDACTED:<kind>]". */
  replace?: (match: string, ...groups: string[]) => string;
}

const mask = (kind: string) => `[REDACTED:${kind}]`;

const patterns: Pattern[] = [
  {
    kind: 'private-key',
    regex: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  },
  { kind: 'jwt', regex: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  { kind: 'meshcode-invite', regex: /\bmc_inv_[A-Za-z0-9]{8,}/g },
  // Base62 secrets only: RPC names such as mc_wait contain underscores or are short, and stay readable.
  { kind: 'meshcode-key', regex: /\bmc_[A-Za-z0-9]{20,}/g },
  { kind: 'github-token', regex: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  { kind: 'github-token', regex: /\bgithub_pat_[A-Za-z0-9_]{20,}/g },
  { kind: 'gitlab-token', regex: /\bgl(?:pat|dt|ptt|rt)-[A-Za-z0-9_-]{20,}/g },
  { kind: 'api-key', regex: /\bsk-[A-Za-z0-9_-]{16,}/g },
  { kind: 'slack-token', regex: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-token', regex: /\bxapp-[A-Za-z0-9-]{10,}/g },
  { kind: 'aws-key', regex: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'google-key', regex: /\bAIza[0-9A-Za-z_-]{35}/g },
  { kind: 'webhook-secret', regex: /\bwhsec_[A-Za-z0-9+/=]{16,}/g },
  { kind: 'telegram-token', regex: /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g },
  {
    kind: 'bearer',
    regex: /\b(Bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi,
    replace: (_m, prefix: string) => `${prefix}${mask('credential')}`,
  },
  {
    kind: 'authorization',
    regex: /\b(Authorization["']?\s*[:=]\s*["']?(?:Basic\s+|token\s+)?)([A-Za-z0-9._~+/=-]{8,})/gi,
    replace: (_m, prefix: string) => `${prefix}${mask('credential')}`,
  },
  {
    kind: 'url-password',
    regex: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi,
    replace: (_m, prefix: string) => `${prefix}${mask('password')}@`,
  },
  {
    kind: 'assignment',
    regex:
      /\b((?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"']+)/gi,
    replace: (_m, prefix: string) => `${prefix}${mask('secret')}`,
  },
];

export function redact(text: string): string {
  let out = text;
  for (const { kind, regex, replace } of patterns) {
    out = out.replace(regex, (match: string, ...rest: unknown[]) => {
      if (match.startsWith('[REDACTED')) return match;
      const groups = rest.filter((value): value is string => typeof value === 'string');
      return replace ? replace(match, ...groups) : mask(kind);
    });
  }
  return out;
}

/** Redacts every string inside a JSON-like value (activity details, sanitized worker definitions). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item)])) as T;
  }
  return value;
}

/** True when a string looks like a credential, so config validation can refuse values where only names belong. */
export function looksLikeCredential(text: string): boolean {
  return redact(text) !== text;
}

/** Where a value sits in a JSON-like document: keys and list indexes from the root. */
export type ValuePath = (string | number)[];

/**
 * The path of every string in a JSON-like value that looks like a credential (what redactDeep would change), in
 * document order. Keys are not checked, as redactDeep leaves them alone.
 */
export function findCredentials(value: unknown, path: ValuePath = []): ValuePath[] {
  if (typeof value === 'string') return looksLikeCredential(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item: unknown, index) => findCredentials(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => findCredentials(item, [...path, key]));
  }
  return [];
}

/** A path as a reader writes it: events[0].prompt, or events[0].filter["sender.login"] for a key with a dot. */
export function formatValuePath(path: ValuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
