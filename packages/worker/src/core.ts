// @meshcode/worker/core: what the hub needs of workers (definitions, rules, templates, secrets, redaction, results,
// the retry policy and the spec the hub stores), without the drivers and the runtime, which load dockerode and the
// client SDK (supabase-js).
export {
  DRIVERS,
  SOURCES,
  STATUS_STATES,
  formatIssue,
  parseWorkerFile,
  parseWorkerYaml,
  workerSchema,
  type DriverKind,
  type EventRule,
  type FilterMatcher,
  type ParseWorkerResult,
  type ScheduleEntry,
  type SourceName,
  type WorkerDefinition,
  type WorkerFileIssue,
  type WorkerLimits,
  type WorkerPolicy,
} from './definition';
export { loadWorkerEnv, type WorkerEnv } from './env';
export { filterMatches, matchingRules, onMatches, ruleMatches, type IncomingEvent } from './rules';
export { parseTemplate, renderPrompt, type ParsedTemplate, type RenderOptions, type RenderResult } from './template';
export {
  SECRETS_FILE,
  loadSecrets,
  secretsPath,
  writeSecret,
  type LoadSecretsResult,
  type SecretLookup,
  type Secrets,
} from './secrets';
export { findCredentials, formatValuePath, looksLikeCredential, redact, redactDeep, type ValuePath } from './redact';
export { parseWorkerOutput, workerResultSchema, type WorkerResult } from './result';
export {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  decideRetry,
  type Failure,
  type RetryDecision,
  type RetryPolicy,
} from './retry';
export {
  parseDefinition,
  rawDefinition,
  workerSpec,
  type ParseDefinitionResult,
  type WorkerSpec,
} from './runtime/spec';
