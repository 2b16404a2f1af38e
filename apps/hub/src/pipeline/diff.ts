// Unified diffs -> review suggestions: each hunk replaces the lines it removes from the pull request's head with
// the lines it keeps and adds, which is exactly GitHub's ```suggestion block on those lines.

export interface Suggestion {
  path: string;
  /** First and last line of the head file the suggestion replaces (1-based, inclusive). */
  startLine: number;
  endLine: number;
  /** The replacement text. */
  body: string;
}

export interface ParsedSuggestions {
  suggestions: Suggestion[];
  /** Hunks that cannot be a suggestion (pure insertions without context, new or deleted files). */
  skipped: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/;

export function suggestionsFromDiff(diff: string): ParsedSuggestions {
  const suggestions: Suggestion[] = [];
  let skipped = 0;
  let path: string | undefined;
  let hunk: { start: number; count: number; lines: string[] } | undefined;
  const flush = () => {
    if (!hunk) return;
    if (!path || hunk.count === 0) skipped += 1;
    else {
      suggestions.push({
        path,
        startLine: hunk.start,
        endLine: hunk.start + hunk.count - 1,
        body: hunk.lines.join('\n'),
      });
    }
    hunk = undefined;
  };
  for (const line of diff.replace(/\r\n/g, '\n').split('\n')) {
    if (line.startsWith('diff --git ')) {
      flush();
      path = undefined;
      continue;
    }
    if (line.startsWith('--- ')) {
      flush();
      continue;
    }
    if (line.startsWith('+++ ')) {
      const name = line.slice(4).trim();
      path = name === '/dev/null' ? undefined : name.replace(/^b\//, '');
      continue;
    }
    const m = HUNK.exec(line);
    if (m) {
      flush();
      hunk = { start: Number(m[1]), count: m[2] === undefined ? 1 : Number(m[2]), lines: [] };
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith('+') || line.startsWith(' ')) hunk.lines.push(line.slice(1));
  }
  flush();
  return { suggestions, skipped };
}
