// Closest-name suggestions and name checks (pure), plus the program's own help for an unknown command.
import { describe, expect, it } from 'vitest';
import { checkName, closestNames, projectNotFound } from './resolve';
import { runCli } from './testing/cli';

describe('closestNames', () => {
  it('ranks by edit distance, keeps names that contain the typed one, and drops unrelated ones', () => {
    const names = ['frontend-app', 'frontend', 'billing', 'backend', 'demo'];
    expect(closestNames('frontend-ap', names)).toEqual(['frontend-app', 'frontend']);
    expect(closestNames('backnd', names)).toEqual(['backend']);
    expect(closestNames('dmeo', names)).toEqual(['demo']);
    expect(closestNames('zzzzzz', names)).toEqual([]);
    expect(closestNames('FRONTEND', names, 1)).toEqual(['frontend']);
  });

  it('words the unknown-project error the way the troubleshooting guide does', () => {
    const err = projectNotFound('my-projet', ['my-project', 'other']);
    expect(err.message).toBe("could not resolve project 'my-projet': project not found");
    expect(err.hint).toBe("did you mean 'my-project'? (meshcode projects lists yours)");
    expect(projectNotFound('x', []).hint).toContain('you have no projects yet');
  });
});

describe('checkName', () => {
  it('lowercases valid names and refuses ones that could escape MESHCODE_HOME', () => {
    expect(checkName('agent', ' Backend ')).toBe('backend');
    for (const bad of ['..', '../x', 'a/b', '', '-x', 'x'.repeat(64)]) {
      expect(() => checkName('project', bad), bad).toThrow('is not valid');
    }
  });
});

describe('help', () => {
  it('shows one command’s help, and suggests the closest command for a typo', async () => {
    const env = { HOME: '/nonexistent', MESHCODE_HOME: '/nonexistent/.meshcode' };
    const setup = await runCli(['help', 'setup'], env);
    expect(setup.stdout).toContain('Usage: meshcode setup [options] <project> <agent>');
    const typo = await runCli(['help', 'stup'], env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("no command 'stup' (did you mean setup?)");
    const unknown = await runCli(['boardd', 'x'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'boardd'");
    expect(unknown.stderr).toContain('Did you mean board?');
  });
});
