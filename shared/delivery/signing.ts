import { createHmac } from 'node:crypto';

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
