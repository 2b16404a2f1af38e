import { describe, expect, it } from 'vitest';
import { parseWorkerOutput } from './result';

describe('parseWorkerOutput', () => {
  it('reads a JSON result with actions', () => {
    const text = JSON.stringify({ output: 'done', comment: { body: 'LGTM' }, status: { state: 'success' } });
    expect(parseWorkerOutput(`${text}\n`)).toEqual({
      output: 'done',
      comment: { body: 'LGTM' },
      status: { state: 'success' },
    });
  });

  it('keeps anything else, including JSON without actions, as plain output', () => {
    expect(parseWorkerOutput('Looks good to me.')).toEqual({ output: 'Looks good to me.' });
    expect(parseWorkerOutput('{"answer": 42}')).toEqual({ output: '{"answer": 42}' });
    expect(parseWorkerOutput('{"comment": "not an object"}')).toEqual({ output: '{"comment": "not an object"}' });
    expect(parseWorkerOutput('{broken')).toEqual({ output: '{broken' });
  });
});
