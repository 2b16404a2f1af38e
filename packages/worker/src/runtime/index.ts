// The worker runtime: claim, run, report; plus the definition spec the hub stores.
export { ClaimResult, runWorker, unfence, WorkerRuntimeError, type WorkerRuntimeOptions } from './runtime';
export { localDriver } from './driver';
export { parseDefinition, rawDefinition, workerSpec, type ParseDefinitionResult, type WorkerSpec } from './spec';
