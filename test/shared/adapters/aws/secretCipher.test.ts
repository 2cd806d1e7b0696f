import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KmsApi } from '../../../../shared/adapters/aws/kmsApi.ts';
import { createKmsSecretCipher } from '../../../../shared/adapters/aws/secretCipher.ts';
import { SecretDecryptionError } from '../../../../shared/errors.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-aaaa-bbbb-cccc-000000000001';
const hook = { tenant: 'acme', hookId: '6f0b1c2e-0000-4000-8000-000000000001' };

/**
 * KMS has no local counterpart, so this stands in for it: a master key of its own, a data key
 * encrypted under it bound to the encryption context (as KMS binds it), and KMS's error names.
 */
function fakeKms() {
  const master = randomBytes(32);
  const calls = { generateDataKey: 0, decrypt: 0 };
  const contexts: Record<string, string>[] = [];
  const aad = (context: Record<string, string>) => Buffer.from(JSON.stringify(Object.entries(context).sort()));
  const kmsError = (name: string) => Object.assign(new Error(name), { name });
  const kms: KmsApi = {
    async generateDataKey({ KeyId, EncryptionContext }) {
      calls.generateDataKey++;
      contexts.push(EncryptionContext);
      if (KeyId !== KEY_ARN) throw kmsError('NotFoundException');
      const plaintext = randomBytes(32);
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', master, nonce).setAAD(aad(EncryptionContext));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { Plaintext: plaintext, CiphertextBlob: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
    },
    async decrypt({ KeyId, CiphertextBlob, EncryptionContext }) {
      calls.decrypt++;
      contexts.push(EncryptionContext);
      if (KeyId !== KEY_ARN) throw kmsError('IncorrectKeyException');
      const blob = Buffer.from(CiphertextBlob);
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12)).setAAD(aad(EncryptionContext));
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        return { Plaintext: Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]) };
      } catch {
        throw kmsError('InvalidCiphertextException');
      }
    },
  };
  return { kms, calls, contexts };
}

describe('the KMS secret cipher (envelope encryption, bounded data-key cache)', () => {
  it('seals a hook with one GenerateDataKey bound to its tenant and hook, and opens it', async () => {
    const { kms, calls, contexts } = fakeKms();
    const writer = createKmsSecretCipher({ keyId: KEY_ARN, kms });
    const sealed = await writer.seal(['whsec_abc', 'Bearer t0ken', 'old'], hook);
    expect(calls.generateDataKey).toBe(1);
    expect(contexts[0]).toEqual({ tenant: 'acme', hook: hook.hookId });
    expect(sealed.every((value) => value.startsWith('enc:kms1:'))).toBe(true);
    expect(sealed.join()).not.toMatch(/whsec_abc|t0ken/);
    // Another execution environment (the delivery function) opens it with one Decrypt for all three.
    const reader = createKmsSecretCipher({ keyId: KEY_ARN, kms });
    expect(await reader.open(sealed, hook)).toEqual(['whsec_abc', 'Bearer t0ken', 'old']);
    expect(calls.decrypt).toBe(1);
    expect(await reader.open(['plain from before'], hook)).toEqual(['plain from before']);
  });

  it('calls KMS once per data key while it is cached, again after the TTL, and keeps at most cacheSize keys', async () => {
    const { kms, calls } = fakeKms();
    const clock = new ManualClock(0);
    const writer = createKmsSecretCipher({ keyId: KEY_ARN, kms });
    const sealedA = await writer.seal(['a'], hook);
    const sealedB = await writer.seal(['b'], { ...hook, hookId: 'hook-b' });
    const reader = createKmsSecretCipher({ keyId: KEY_ARN, kms, clock, cacheSize: 1, cacheTtlMs: 60_000 });
    for (let i = 0; i < 1000; i++) await reader.open(sealedA, hook);
    expect(calls.decrypt).toBe(1);
    clock.advance(60_000);
    await reader.open(sealedA, hook);
    expect(calls.decrypt).toBe(2);
    // With room for one key, opening B evicts A.
    await reader.open(sealedB, { ...hook, hookId: 'hook-b' });
    await reader.open(sealedA, hook);
    expect(calls.decrypt).toBe(4);
  });

  it('fails with SecretDecryptionError for a value moved to another hook, or under another key', async () => {
    const { kms } = fakeKms();
    const sealed = await createKmsSecretCipher({ keyId: KEY_ARN, kms }).seal(['whsec_abc'], hook);
    const reader = createKmsSecretCipher({ keyId: KEY_ARN, kms });
    await expect(reader.open(sealed, { ...hook, tenant: 'globex' })).rejects.toThrow(SecretDecryptionError);
    const otherKey = createKmsSecretCipher({ keyId: `${KEY_ARN}-other`, kms });
    await expect(otherKey.open(sealed, hook)).rejects.toThrow(/does not open with the KMS key/);
    // A failure is not cached: the right context still opens it.
    expect(await reader.open(sealed, hook)).toEqual(['whsec_abc']);
  });

  it('passes other KMS failures (throttling, access denied) through unchanged', async () => {
    const { kms } = fakeKms();
    const sealed = await createKmsSecretCipher({ keyId: KEY_ARN, kms }).seal(['x'], hook);
    const throttled: KmsApi = {
      ...kms,
      decrypt: async () => {
        throw Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
      },
    };
    const error = await createKmsSecretCipher({ keyId: KEY_ARN, kms: throttled })
      .open(sealed, hook)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ThrottlingException' });
    expect(error).not.toBeInstanceOf(SecretDecryptionError);
  });
});
