import { generateKongSecret, generateWhsec, whsecError } from '../delivery/signing.ts';
import { type FieldErrors, SchemaViolationError } from '../errors.ts';
import { isSignedHook as isSigned, type SignedHook, signedHandlerNames } from '../handlers/registry.ts';
import type { EventHook, SigningScheme } from '../hooks/hook.ts';
import { checkInteger, checkString, isPlainObject, LIMITS, UNKNOWN } from '../hooks/validateConfig.ts';
import { setOwn } from '../records.ts';

/**
 * `POST /event-hooks/{id}/secret/rotate` (docs/signatures.md): a new secret becomes current at once.
 * With `standard-webhooks` the old one keeps signing beside it for an overlap, so receivers can move
 * to the new secret without a delivery failing; with `kong` it is replaced at once, since a Kong
 * receiver reads one signature.
 */

/** How long the replaced secret keeps signing when the request does not say. */
export const DEFAULT_OVERLAP_SECONDS = 24 * 60 * 60;
/** An old secret kept longer than a week is a secret nobody is rotating away from. */
export const MAX_OVERLAP_SECONDS = 7 * 24 * 60 * 60;

export interface RotationAnswer {
  signing: SigningScheme;
  /** The new current secret. */
  secret: string;
  overlap_seconds: number;
  /** Until when (Unix seconds) the replaced secret also signs; `null` when it stopped at once. */
  previous_secret_expires_at: number | null;
  message: string;
}

/**
 * The hook with its new secret, and the answer. The secret is the one given or a generated one; a
 * previous secret still in its overlap is dropped (two signatures at most: the new and the last).
 *
 * @throws SchemaViolationError for a hook without a secret to rotate or a malformed request
 */
export function rotateSecret(
  hook: EventHook,
  body: unknown,
  nowSeconds: number,
): { hook: EventHook; answer: RotationAnswer } {
  if (!isSigned(hook)) {
    throw new SchemaViolationError({
      handler: `only ${signedHandlerNames().join(' and ')} hooks have a secret to rotate`,
    });
  }
  const scheme = hook.config.signing ?? 'kong';
  const request = parseRequest(body, scheme, hook.config.secret);
  const secret = request.secret ?? (scheme === 'kong' ? generateKongSecret() : generateWhsec());
  const overlap = request.overlap ?? (scheme === 'kong' ? 0 : DEFAULT_OVERLAP_SECONDS);
  const { previous_secret: _dropped, ...config } = hook.config;
  const old = hook.config.secret;
  const expiresAt = old !== null && overlap > 0 ? nowSeconds + overlap : null;
  const rotated = {
    ...hook,
    config: {
      ...config,
      secret,
      ...(old !== null && expiresAt !== null ? { previous_secret: { secret: old, expires_at: expiresAt } } : {}),
    },
  } as EventHook;
  const message =
    scheme === 'kong'
      ? 'the kong scheme sends one signature: the new secret replaced the old one at once, so receivers must switch now'
      : expiresAt !== null
        ? 'webhook-signature carries a signature by each secret until previous_secret_expires_at; then by the new secret alone'
        : 'the new secret replaced the old one at once';
  return {
    hook: rotated,
    answer: {
      signing: scheme,
      secret,
      overlap_seconds: expiresAt !== null ? overlap : 0,
      previous_secret_expires_at: expiresAt,
      message,
    },
  };
}

function parseRequest(
  body: unknown,
  scheme: SigningScheme,
  current: string | null,
): { secret?: string; overlap?: number } {
  if (!isPlainObject(body)) throw new SchemaViolationError({ '@entity': ['expected a record'] });
  const errors: FieldErrors = {};
  const out: { secret?: string; overlap?: number } = {};
  for (const key of Object.keys(body)) if (key !== 'secret' && key !== 'overlap_seconds') setOwn(errors, key, UNKNOWN);
  if (body.secret !== undefined && body.secret !== null) {
    const text = checkString(body.secret, LIMITS.secretLength);
    const error = !text.ok ? text.error : scheme === 'standard-webhooks' ? whsecError(text.value) : undefined;
    if (error !== undefined) errors.secret = error;
    else if (text.ok && text.value === current) errors.secret = 'must differ from the current secret';
    else if (text.ok) out.secret = text.value;
  }
  if (body.overlap_seconds !== undefined && body.overlap_seconds !== null) {
    // A form body carries numbers as text.
    const raw =
      typeof body.overlap_seconds === 'string' && /^\d{1,10}$/.test(body.overlap_seconds)
        ? Number(body.overlap_seconds)
        : body.overlap_seconds;
    const overlap = checkInteger(raw, 0, MAX_OVERLAP_SECONDS);
    if (!overlap.ok) errors.overlap_seconds = overlap.error;
    else if (scheme === 'kong' && overlap.value > 0) {
      errors.overlap_seconds = 'the kong scheme sends one signature, so its secret is replaced at once: no overlap';
    } else out.overlap = overlap.value;
  }
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return out;
}

/**
 * A client's hook body without `config.previous_secret`: it is the service's own, set by a rotation
 * (a client that sends back a hook it read may include it, and it is ignored).
 */
export function withoutPreviousSecret(value: unknown): unknown {
  if (!isPlainObject(value) || !isPlainObject(value.config) || !Object.hasOwn(value.config, 'previous_secret')) {
    return value;
  }
  const { previous_secret: _ignored, ...config } = value.config;
  return { ...value, config };
}

/**
 * A write that keeps the scheme and the current secret keeps a previous secret still in its overlap;
 * one that changes either replaces the secret at once, as an explicit new secret should.
 */
export function carryPreviousSecret(hook: EventHook, old: EventHook | undefined, nowSeconds: number): void {
  if (!old || !isSigned(hook) || !isSigned(old)) return;
  const previous = live(old, nowSeconds);
  if (previous && hook.config.signing === 'standard-webhooks' && hook.config.secret === old.config.secret) {
    hook.config.previous_secret = previous;
  }
}

/** The hook as read: a previous secret whose overlap has ended is gone, whether or not it is still stored. */
export function withLiveSecrets(hook: EventHook, nowSeconds: number): EventHook {
  if (!isSigned(hook) || hook.config.previous_secret === undefined || live(hook, nowSeconds)) return hook;
  const { previous_secret: _expired, ...config } = hook.config;
  return { ...hook, config } as EventHook;
}

function live(hook: SignedHook, nowSeconds: number) {
  const previous = hook.config.previous_secret;
  return previous && previous.expires_at > nowSeconds && hook.config.signing === 'standard-webhooks'
    ? previous
    : undefined;
}
