// @meshcode/worker: worker definitions, prompt templates, secrets, redaction, drivers and the retry policy.
// The hub imports @meshcode/worker/core instead, which leaves out the drivers and the runtime.
export * from './core';
export * from './drivers/index';
export * from './runtime/index';
