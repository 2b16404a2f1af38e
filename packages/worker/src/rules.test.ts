import examples from '@octokit/webhooks-examples';
import { describe, expect, it } from 'vitest';
import { parseWorkerYaml } from './definition';
import { filterMatches, matchingRules, onMatches } from './rules';

const prExamples = examples.find((d) => d.name === 'pull_request')!.examples as unknown as {
  action: string;
  pull_request: { draft: boolean; base: { ref: string }; labels: { name: string }[]; title: string };
}[];

describe('onMatches', () => {
  it('matches an event, an event with action, an action wildcard and everything', () => {
    expect(onMatches('pull_request', 'pull_request', 'closed')).toBe(true);
    expect(onMatches('pull_request.opened', 'pull_request', 'opened')).toBe(true);
    expect(onMatches('pull_request.opened', 'pull_request', 'synchronize')).toBe(false);
    expect(onMatches('pull_request.opened', 'pull_request')).toBe(false);
    expect(onMatches('issues.*', 'issues', 'labeled')).toBe(true);
    expect(onMatches('issues.*', 'issue_comment', 'created')).toBe(false);
    expect(onMatches('*', 'push')).toBe(true);
  });
});

describe('filterMatches on real pull_request payloads', () => {
  const opened = prExamples.find((p) => p.action === 'opened')!;
  const labeled = prExamples.find((p) => p.pull_request.labels.length > 0)!;

  it('compares scalars, lists and matchers along dotted paths', () => {
    const ref = opened.pull_request.base.ref;
    expect(filterMatches({ 'pull_request.base.ref': ref }, opened)).toBe(true);
    expect(filterMatches({ 'pull_request.base.ref': `${ref}-other` }, opened)).toBe(false);
    expect(filterMatches({ 'pull_request.base.ref': ['x', ref] }, opened)).toBe(true);
    expect(filterMatches({ 'pull_request.draft': opened.pull_request.draft }, opened)).toBe(true);
    expect(filterMatches({ 'pull_request.title': { matches: '^.' } }, opened)).toBe(true);
    expect(filterMatches({ 'pull_request.title': { not: opened.pull_request.title } }, opened)).toBe(false);
    expect(filterMatches({ 'pull_request.nope': { exists: false } }, opened)).toBe(true);
    expect(filterMatches({ 'pull_request.nope': 'x' }, opened)).toBe(false);
    expect(filterMatches({ 'pull_request.constructor': { exists: true } }, opened)).toBe(false);
  });

  it('fans out over lists with "*"', () => {
    const name = labeled.pull_request.labels[0]!.name;
    expect(filterMatches({ 'pull_request.labels.*.name': name }, labeled)).toBe(true);
    expect(filterMatches({ 'pull_request.labels.*.name': { not: name } }, labeled)).toBe(false);
    expect(filterMatches({ 'pull_request.labels.*.name': { not_in: ['no-such-label'] } }, labeled)).toBe(true);
  });
});

describe('matchingRules', () => {
  it('returns every rule that matches, not only the first', () => {
    const parsed = parseWorkerYaml(
      `name: triage
driver: exec
exec: { command: [claude, -p] }
events:
  - source: github
    on: [pull_request.opened, pull_request.synchronize]
    prompt: "Review {{ event.pull_request.title }}"
  - source: github
    on: pull_request
    filter: { pull_request.draft: false }
    prompt: "Label {{ event.pull_request.title }}"
  - source: gitlab
    on: merge_request
    prompt: "x"
`,
      'triage.yml',
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const opened = prExamples.find((p) => p.action === 'opened' && !p.pull_request.draft)!;
    const rules = matchingRules(parsed.worker, {
      source: 'github',
      event: 'pull_request',
      action: 'opened',
      payload: opened,
    });
    expect(rules.map((rule) => rule.prompt)).toEqual([
      'Review {{ event.pull_request.title }}',
      'Label {{ event.pull_request.title }}',
    ]);
    expect(
      matchingRules(parsed.worker, { source: 'github', event: 'pull_request', action: 'closed', payload: opened }),
    ).toHaveLength(1);
    expect(matchingRules(parsed.worker, { source: 'slack', event: 'pull_request', payload: opened })).toHaveLength(0);
  });
});
