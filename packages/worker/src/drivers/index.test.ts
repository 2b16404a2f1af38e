import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseWorkerYaml } from '../definition';
import { loadWorkerEnv } from '../env';
import { loadSecrets } from '../secrets';
import { sendJson, startServer } from '../testing/http-server';
import { createDriver } from './index';

const fixture = fileURLToPath(new URL('./fixtures/fake-cli.mjs', import.meta.url));

async function setup(yaml: string, secrets: string) {
  const home = await mkdtemp(join(tmpdir(), 'meshcode-home-'));
  await chmod(home, 0o700);
  await writeFile(join(home, 'secrets.yml'), secrets, { mode: 0o600 });
  const loaded = await loadSecrets(home);
  if (!loaded.ok) throw new Error(loaded.error);
  const parsed = parseWorkerYaml(yaml, 'w.yml');
  if (!parsed.ok) throw new Error(parsed.message);
  const env = { ...loadWorkerEnv(), meshcodeHome: home };
  return { worker: parsed.worker, deps: { env, secrets: loaded.secrets } };
}

const task = (prompt: string) => ({ prompt, timeoutMs: 10_000, signal: new AbortController().signal });

describe('createDriver', () => {
  it('builds an exec driver whose child gets the model and resolved tokens', async () => {
    const { worker, deps } = await setup(
      `name: w\ndriver: exec\nmodel: sonnet\nexec:\n  command: ["${process.execPath}", "${fixture}", env]\ntokens:\n  ANTHROPIC_API_KEY: anthropic.default\n`,
      'anthropic:\n  default: sk-ant-local\n',
    );
    const built = createDriver(worker, deps);
    if (!built.ok) throw new Error(built.error);
    const result = await built.driver.run(task('x'));
    expect(result.ok && (JSON.parse(result.output) as string[])).toEqual(
      expect.arrayContaining(['ANTHROPIC_API_KEY', 'MESHCODE_MODEL']),
    );
  });

  it('fails with the fix when a referenced secret is missing', async () => {
    const { worker, deps } = await setup(
      'name: w\ndriver: http\nhttp:\n  url: http://127.0.0.1:1\n  api_key: mecha.prod\n',
      'other: x\n',
    );
    expect(createDriver(worker, deps)).toEqual({
      ok: false,
      error: `Worker "w": Secret "mecha.prod" is not in ${deps.secrets.path}; add "mecha:" then "  prod: <value>" to it.`,
    });
  });

  it('builds an openai driver with the key from secrets.yml and the price from the file', async () => {
    const server = await startServer((req, res) => {
      sendJson(res, req.headers.authorization === 'Bearer sk-local-key' ? 200 : 401, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'qwen2.5-coder',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 },
      });
    });
    try {
      const { worker, deps } = await setup(
        `name: w\ndriver: openai\nmodel: qwen2.5-coder\nopenai:\n  base_url: ${server.url}/v1\n  api_key: vllm.local\n  price: { input_per_mtok: 1, output_per_mtok: 2 }\n`,
        'vllm:\n  local: sk-local-key\n',
      );
      const built = createDriver(worker, deps);
      if (!built.ok) throw new Error(built.error);
      expect(await built.driver.run(task('hi'))).toEqual({
        ok: true,
        output: 'ok',
        usage: { inputTokens: 1_000_000, outputTokens: 1_000_000, costUsd: 3 },
      });
    } finally {
      await server.close();
    }
  });
});
