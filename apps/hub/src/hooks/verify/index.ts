// Webhook verifiers, one per scheme, behind one interface. Verify the raw body before parsing anything.
import { verifyGeneric } from './generic';
import { verifyGitHub } from './github';
import { verifyGitLab } from './gitlab';
import { verifySlack } from './slack';
import { verifyStandardWebhooks } from './standard';
import { verifyTelegram } from './telegram';
import type { Verifier } from './types';

export const verifiers = {
  github: verifyGitHub,
  gitlab: verifyGitLab,
  slack: verifySlack,
  telegram: verifyTelegram,
  generic: verifyGeneric,
  standard: verifyStandardWebhooks,
} as const satisfies Record<string, Verifier>;

export type WebhookScheme = keyof typeof verifiers;

export function isWebhookScheme(value: string): value is WebhookScheme {
  return Object.hasOwn(verifiers, value);
}

export type { Verifier, VerifyRequest, VerifyResult } from './types';
export { verifyGeneric, verifyGitHub, verifyGitLab, verifySlack, verifyStandardWebhooks, verifyTelegram };
export { slackUrlVerification, SLACK_WINDOW_SECONDS } from './slack';
export { STANDARD_WEBHOOKS_TOLERANCE_SECONDS } from './standard';
export { signGeneric, signGitHub, signSlack, signStandardWebhooks } from './sign';
