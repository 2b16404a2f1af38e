// Builds the driver a worker definition asks for, resolving its secret references on this machine.
import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { WorkerDefinition } from '../definition';
import type { WorkerEnv } from '../env';
import type { Secrets } from '../secrets';
import { createDockerDriver } from './docker';
import { createExecDriver } from './exec';
import { createHttpDriver } from './http';
import { createOllamaDriver } from './ollama';
import { createOpenAIDriver } from './openai';
import type { Driver } from './types';

export interface CreateDriverDeps {
  env: WorkerEnv;
  secrets: Secrets;
  /** Defaults to a client for the local engine (DOCKER_HOST or the default socket). */
  docker?: Dockerode;
}

export type CreateDriverResult = { ok: true; driver: Driver } | { ok: false; error: string };

function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function createDriver(worker: WorkerDefinition, deps: CreateDriverDeps): CreateDriverResult {
  const tokens: Record<string, string> = {};
  for (const [name, ref] of Object.entries(worker.tokens)) {
    const found = deps.secrets.resolve(ref);
    if (!found.ok) return { ok: false, error: `Worker "${worker.name}": ${found.error}` };
    tokens[name] = found.value;
  }
  const secret = (ref: string | undefined): { ok: true; value?: string } | { ok: false; error: string } => {
    if (!ref) return { ok: true };
    const found = deps.secrets.resolve(ref);
    return found.ok ? found : { ok: false, error: `Worker "${worker.name}": ${found.error}` };
  };
  const declared = { ...worker.env, ...(worker.model ? { MESHCODE_MODEL: worker.model } : {}), ...tokens };
  const home = deps.env.home;
  const meshcodeHome = deps.env.meshcodeHome;

  switch (worker.driver) {
    case 'exec': {
      const [command, ...args] = worker.exec.command;
      if (!command) return { ok: false, error: `Worker "${worker.name}": exec.command is empty.` };
      return {
        ok: true,
        driver: createExecDriver({
          command,
          args,
          env: { ...deps.env.childBaseEnv, ...declared },
          ...(worker.exec.cwd ? { cwd: expandHome(worker.exec.cwd, home) } : {}),
          maxOutputBytes: worker.exec.max_output_bytes,
        }),
      };
    }
    case 'docker': {
      const section = worker.docker;
      return {
        ok: true,
        driver: createDockerDriver({
          docker: deps.docker ?? new Dockerode(),
          workerName: worker.name,
          image: section.image,
          ...(section.command ? { command: section.command } : {}),
          mode: section.mode,
          env: declared,
          ...(section.cwd ? { cwd: expandHome(section.cwd, home) } : {}),
          cpus: section.cpus,
          memoryBytes: section.memory,
          pids: section.pids,
          network: section.network,
          ...(section.user ? { user: section.user } : {}),
          pull: section.pull,
          maxOutputBytes: section.max_output_bytes,
          home,
          meshcodeHome,
        }),
      };
    }
    case 'openai': {
      const key = secret(worker.openai.api_key);
      if (!key.ok) return key;
      const model = worker.model ?? '';
      const price = worker.openai.price;
      return {
        ok: true,
        driver: createOpenAIDriver({
          baseUrl: worker.openai.base_url,
          model,
          ...(key.value ? { apiKey: key.value } : {}),
          ...(price
            ? { prices: { [model]: { inputPerMTok: price.input_per_mtok, outputPerMTok: price.output_per_mtok } } }
            : {}),
          ...(worker.openai.system ? { system: worker.openai.system } : {}),
          ...(worker.openai.max_tokens ? { maxTokens: worker.openai.max_tokens } : {}),
          ...(worker.openai.temperature !== undefined ? { temperature: worker.openai.temperature } : {}),
        }),
      };
    }
    case 'ollama': {
      const price = worker.ollama.price;
      return {
        ok: true,
        driver: createOllamaDriver({
          baseUrl: worker.ollama.base_url,
          model: worker.model ?? '',
          ...(worker.ollama.system ? { system: worker.ollama.system } : {}),
          ...(price ? { price: { inputPerMTok: price.input_per_mtok, outputPerMTok: price.output_per_mtok } } : {}),
        }),
      };
    }
    case 'http': {
      const key = secret(worker.http.api_key);
      if (!key.ok) return key;
      return {
        ok: true,
        driver: createHttpDriver({ url: worker.http.url, ...(key.value ? { apiKey: key.value } : {}) }),
      };
    }
  }
}

export { createDockerDriver, type DockerDriverOptions, WORKSPACE } from './docker';
export { createExecDriver, type ExecDriverOptions } from './exec';
export { createHttpDriver, type HttpDriverOptions } from './http';
export { createOllamaDriver, type OllamaDriverOptions } from './ollama';
export { createOpenAIDriver, type OpenAIDriverOptions } from './openai';
export { checkMountSource, type MountCheck, type MountContext } from './mounts';
export type { Driver, DriverResult, DriverTask, Price, PriceTable, Usage } from './types';
