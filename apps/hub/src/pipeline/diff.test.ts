import { describe, expect, it } from 'vitest';
import { suggestionsFromDiff } from './diff';

describe('suggestionsFromDiff', () => {
  it('turns each hunk into a suggestion over the lines it replaces', () => {
    const diff = [
      'diff --git a/src/a.ts b/src/a.ts',
      'index 83db48f..bf269f4 100644',
      '--- a/src/a.ts',
      '+++ b/src/a.ts',
      '@@ -3,3 +3,3 @@ function f() {',
      ' const a = 1;',
      '-const b = eval(input);',
      '+const b = JSON.parse(input);',
      ' return a + b;',
      '@@ -10 +10 @@',
      '-x',
      '+y',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      '@@ -0,0 +1 @@',
      '+hello',
      '',
    ].join('\n');
    expect(suggestionsFromDiff(diff)).toEqual({
      suggestions: [
        {
          path: 'src/a.ts',
          startLine: 3,
          endLine: 5,
          body: 'const a = 1;\nconst b = JSON.parse(input);\nreturn a + b;',
        },
        { path: 'src/a.ts', startLine: 10, endLine: 10, body: 'y' },
      ],
      skipped: 1,
    });
  });

  it('suggests deleting lines with an empty replacement', () => {
    expect(suggestionsFromDiff('--- a/f\n+++ b/f\n@@ -2,2 +1,0 @@\n-gone\n-gone too\n').suggestions).toEqual([
      { path: 'f', startLine: 2, endLine: 3, body: '' },
    ]);
  });
});
