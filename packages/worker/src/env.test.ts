import { describe, expect, it } from 'vitest';
import { loadWorkerEnv } from './env';

describe('loadWorkerEnv', () => {
  it('defaults MESHCODE_HOME to ~/.meshcode and expands ~', () => {
    expect(loadWorkerEnv({ HOME: '/home/ada', PATH: '/usr/bin' })).toEqual({
      meshcodeHome: '/home/ada/.meshcode',
      home: '/home/ada',
      childBaseEnv: { HOME: '/home/ada', PATH: '/usr/bin' },
    });
    expect(loadWorkerEnv({ HOME: '/home/ada', MESHCODE_HOME: '~/mesh' }).meshcodeHome).toBe('/home/ada/mesh');
  });

  it('hands children only the base variables, never secrets from the parent environment', () => {
    const env = loadWorkerEnv({ HOME: '/h', PATH: '/bin', OPENAI_API_KEY: 'sk-x', MESHCODE_API_KEY: 'mc_x' });
    expect(Object.keys(env.childBaseEnv).sort()).toEqual(['HOME', 'PATH']);
  });

  it('rejects a relative MESHCODE_HOME with a sentence naming it', () => {
    expect(() => loadWorkerEnv({ HOME: '/h', MESHCODE_HOME: 'relative/dir' })).toThrow(
      /MESHCODE_HOME must be an absolute path/,
    );
  });
});
