// The driver for a worker on this machine: secrets come from MESHCODE_HOME/secrets.yml (refused when too open).
import type { WorkerDefinition } from '../definition';
import { createDriver } from '../drivers/index';
import type { Driver } from '../drivers/types';
import type { WorkerEnv } from '../env';
import { loadSecrets } from '../secrets';
import { WorkerRuntimeError } from './runtime';

export async function localDriver(definition: WorkerDefinition, env: WorkerEnv): Promise<Driver> {
  const secrets = await loadSecrets(env.meshcodeHome);
  if (!secrets.ok) throw new WorkerRuntimeError(secrets.error);
  const made = createDriver(definition, { env, secrets: secrets.secrets });
  if (!made.ok) throw new WorkerRuntimeError(made.error);
  return made.driver;
}
