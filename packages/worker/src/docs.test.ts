import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseWorkerYaml } from './definition';
import { findCredentials } from './redact';
import { rawDefinition } from './runtime/spec';

// Every ```yaml block of the worker reference is a complete worker definition a user may copy.
const docPath = fileURLToPath(new URL('../../../docs/workers.md', import.meta.url));

interface YamlBlock {
  /** 1-based line of the opening fence in docs/workers.md. */
  line: number;
  text: string;
}

function yamlBlocks(markdown: string): YamlBlock[] {
  const blocks: YamlBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(\s*)```yaml\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? '')) {
      body.push((lines[j] ?? '').slice(indent));
      j += 1;
    }
    if (j === lines.length) throw new Error(`docs/workers.md:${i + 1}: the yaml block is never closed`);
    blocks.push({ line: i + 1, text: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

const blocks = yamlBlocks(readFileSync(docPath, 'utf8'));

describe('docs/workers.md', () => {
  it('has the example worker files', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((block) => [block.line, block] as const))(
    'the yaml block at line %i is a valid worker definition',
    (line, block) => {
      const result = parseWorkerYaml(block.text, `docs/workers.md (block at line ${line})`);
      expect(result.ok ? [] : result.issues).toEqual([]);
      // The hub also refuses a definition in which any value looks like a credential (prompts included).
      expect(findCredentials(rawDefinition(block.text))).toEqual([]);
    },
  );
});
