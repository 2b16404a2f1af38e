// The worker runtime: claim, run, report (the definition spec the hub stores is in ../core).
export { ClaimResult, runWorker, unfence, WorkerRuntimeError, type WorkerRuntimeOptions } from './runtime';
export { localDriver } from './driver';
