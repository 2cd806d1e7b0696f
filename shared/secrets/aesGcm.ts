import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretDecryptionError } from '../errors.ts';
import type { SecretContext } from '../ports/secretCipher.ts';

/** A 256-bit key, as the key file and KMS data keys hold it. */
export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The additional authenticated data: a sealed value opens only for the tenant and hook it was sealed for. */
function aad(context: SecretContext): Buffer {
  return Buffer.from(JSON.stringify([context.tenant, context.hookId]), 'utf8');
}

/**
 * AES-256-GCM with a random 96-bit nonce per value: `base64url(nonce | ciphertext | tag)`. A random
 * nonce is safe far beyond the number of secrets one key will ever seal (2^32 values per key).
 */
export function aesGcmSeal(key: Buffer, plaintext: string, context: SecretContext): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(context));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** @throws SecretDecryptionError when the key, the context or the bytes are not those it was sealed with */
export function aesGcmOpen(key: Buffer, payload: string, context: SecretContext): string {
  const bytes = Buffer.from(payload, 'base64url');
  if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new SecretDecryptionError('a sealed hook secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(aad(context));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw new SecretDecryptionError(
      `a sealed secret of hook ${context.hookId} does not open: it was altered, or sealed for another hook`,
      { cause: error },
    );
  }
}
