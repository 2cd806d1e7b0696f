import { createHmac, randomBytes } from 'node:crypto';
import type { SigningScheme } from '../hooks/hook.ts';

/**
 * Kong's webhook signature: `x-kong-signature: sha1=<hex HMAC-SHA1(secret, body)>`, computed over
 * the exact bytes that go on the wire so a receiver can verify before parsing.
 *
 * @example
 * kongSignature('hunter2', 'foobar') // 'sha1=47632029fcc7936dc59ff90b5bb736a44c74ab62'
 */
export function kongSignature(secret: string, body: Buffer | string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/** Name of the header that carries {@link kongSignature}. */
export const SIGNATURE_HEADER = 'x-kong-signature';

/** The Standard Webhooks headers (https://www.standardwebhooks.com). */
export const STANDARD_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export const WHSEC_PREFIX = 'whsec_';
/** Key sizes the specification recommends (24 to 64 bytes); generated keys take 32. */
export const WHSEC_KEY_BYTES = { min: 24, max: 64, generated: 32 } as const;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The HMAC key of a `whsec_<base64>` secret, or `undefined` when the secret does not have that form. */
export function whsecKey(secret: string): Buffer | undefined {
  if (!secret.startsWith(WHSEC_PREFIX)) return undefined;
  const encoded = secret.slice(WHSEC_PREFIX.length);
  // Node's base64 decoder skips what it cannot read; only canonical text decodes to what the receiver decodes.
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const key = Buffer.from(encoded, 'base64');
  if (key.length < WHSEC_KEY_BYTES.min || key.length > WHSEC_KEY_BYTES.max) return undefined;
  return key;
}

/** Why `secret` cannot sign Standard Webhooks, or `undefined`. */
export function whsecError(secret: string): string | undefined {
  return whsecKey(secret) === undefined
    ? `must be 'whsec_' followed by the base64 of ${WHSEC_KEY_BYTES.min} to ${WHSEC_KEY_BYTES.max} random bytes`
    : undefined;
}

/** A new random `whsec_…` secret. */
export function generateWhsec(): string {
  return `${WHSEC_PREFIX}${randomBytes(WHSEC_KEY_BYTES.generated).toString('base64')}`;
}

/** A new random secret for the `kong` scheme, which takes any string. */
export function generateKongSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * One Standard Webhooks signature: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key
 * being the decoded part of the `whsec_` secret.
 *
 * @throws Error when the secret is not a `whsec_` secret (validation keeps such secrets out)
 * @example
 * standardSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function standardSignature(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  const key = whsecKey(secret);
  if (key === undefined) throw new Error('not a whsec_ secret');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** What signing reads from a `webhook` or `webhook-custom` config. */
export interface SigningConfig {
  secret: string | null;
  signing?: SigningScheme;
  previous_secret?: { secret: string; expires_at: number };
}

/**
 * The secrets that sign now: the current one, then the one a rotation replaced while its overlap
 * lasts. The expiry is compared with `nowSeconds` here, on every attempt: a stored previous secret
 * past its time never signs, whenever the store gets round to dropping it.
 */
export function signingSecrets(config: SigningConfig, nowSeconds: number): string[] {
  if (config.secret === null) return [];
  const previous = config.previous_secret;
  return previous && previous.expires_at > nowSeconds ? [config.secret, previous.secret] : [config.secret];
}

/**
 * The signature headers of one attempt. `kong`: `x-kong-signature` when there is a secret and a body
 * (Kong signs nothing else). `standard-webhooks`: `webhook-id` (the delivery id, stable across retries
 * and replays), `webhook-timestamp` (this attempt) and `webhook-signature`, one `v1,…` per signing
 * secret, space-separated; a request without a body is signed over an empty body.
 */
export function signatureHeaders(
  config: SigningConfig,
  body: Buffer | undefined,
  id: string,
  nowMs: number,
): Record<string, string> {
  if (config.signing !== 'standard-webhooks') {
    return config.secret && body !== undefined ? { [SIGNATURE_HEADER]: kongSignature(config.secret, body) } : {};
  }
  const timestamp = Math.floor(nowMs / 1000);
  const secrets = signingSecrets(config, timestamp);
  if (secrets.length === 0) return {};
  const payload = body ?? Buffer.alloc(0);
  return {
    [STANDARD_HEADERS.id]: id,
    [STANDARD_HEADERS.timestamp]: String(timestamp),
    [STANDARD_HEADERS.signature]: secrets.map((s) => standardSignature(s, id, timestamp, payload)).join(' '),
  };
}
