import { SecretDecryptionError } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { SecretCipher, SecretContext } from '../../ports/secretCipher.ts';
import { aesGcmOpen, aesGcmSeal } from '../../secrets/aesGcm.ts';
import { awsErrorName } from './backoff.ts';
import { type KmsApi, kmsHttpApi } from './kmsApi.ts';

const PREFIX = 'enc:kms1:';

export interface KmsSecretCipherOptions {
  /** The key's ARN (`SECRETS_KEY_ARN`, set by the stack). */
  keyId: string;
  kms?: KmsApi;
  clock?: Clock;
  /** Data keys kept open in memory at most (default 1,000: one per hook version in use). */
  cacheSize?: number;
  /** How long an opened data key is kept (default 15 minutes): how late a disabled key or revoked grant is noticed. */
  cacheTtlMs?: number;
}

/** KMS errors that mean "this ciphertext is not for this key and context", not "KMS is unwell". */
const NOT_OPENABLE = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/**
 * Envelope encryption on KMS: one `GenerateDataKey` per hook write seals all the hook's values with
 * AES-256-GCM under a fresh data key, and each value carries that data key as KMS encrypted it:
 * `enc:kms1:<encrypted data key>:<nonce|ciphertext|tag>`. The encryption context is the tenant and
 * the hook id, so a grant or a CloudTrail entry names them, and a value moved to another hook does
 * not open. Opened data keys are kept in a bounded cache, so a busy hook costs one `Decrypt` per
 * execution environment and cache lifetime, not one per delivery.
 */
export function createKmsSecretCipher(options: KmsSecretCipherOptions): SecretCipher {
  const kms = options.kms ?? kmsHttpApi();
  const clock = options.clock ?? systemClock;
  const maxEntries = options.cacheSize ?? 1000;
  const ttlMs = options.cacheTtlMs ?? 15 * 60_000;
  const cache = new Map<string, { key: Promise<Buffer>; at: number }>();
  const encryptionContext = (context: SecretContext) => ({ tenant: context.tenant, hook: context.hookId });
  const cacheKey = (context: SecretContext, blob: string) => `${context.tenant}\n${context.hookId}\n${blob}`;

  const remember = (id: string, key: Promise<Buffer>) => {
    cache.delete(id);
    // A Map iterates in insertion order: the first entry is the least recently used.
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(id, { key, at: clock.now() });
    key.catch(() => cache.delete(id));
  };

  const dataKey = (blob: string, context: SecretContext): Promise<Buffer> => {
    const id = cacheKey(context, blob);
    const hit = cache.get(id);
    if (hit && clock.now() - hit.at < ttlMs) {
      cache.delete(id);
      cache.set(id, hit);
      return hit.key;
    }
    const key = kms
      .decrypt({
        KeyId: options.keyId,
        CiphertextBlob: Buffer.from(blob, 'base64url'),
        EncryptionContext: encryptionContext(context),
      })
      .then(
        ({ Plaintext }) => Buffer.from(Plaintext as Uint8Array),
        (error: unknown) => {
          if (!NOT_OPENABLE.has(awsErrorName(error))) throw error;
          throw new SecretDecryptionError(
            `a secret of hook ${context.hookId} does not open with the KMS key ${options.keyId}`,
            { cause: error },
          );
        },
      );
    remember(id, key);
    return key;
  };

  return {
    async seal(values, context) {
      if (values.length === 0) return [];
      const { Plaintext, CiphertextBlob } = await kms.generateDataKey({
        KeyId: options.keyId,
        KeySpec: 'AES_256',
        EncryptionContext: encryptionContext(context),
      });
      const key = Buffer.from(Plaintext as Uint8Array);
      const blob = Buffer.from(CiphertextBlob as Uint8Array).toString('base64url');
      // The writer usually opens what it just sealed (the answer, a ping): no Decrypt for that.
      remember(cacheKey(context, blob), Promise.resolve(key));
      return values.map((value) => `${PREFIX}${blob}:${aesGcmSeal(key, value, context)}`);
    },
    async open(values, context) {
      return Promise.all(
        values.map(async (value) => {
          if (!value.startsWith(PREFIX)) return value;
          const [blob, payload] = value.slice(PREFIX.length).split(':', 2);
          if (!blob || payload === undefined) throw new SecretDecryptionError('a sealed hook secret is malformed');
          return aesGcmOpen(await dataKey(blob, context), payload, context);
        }),
      );
    },
  };
}
