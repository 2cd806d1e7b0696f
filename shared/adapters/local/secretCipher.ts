import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../config.ts';
import { SecretDecryptionError } from '../../errors.ts';
import type { SecretCipher, SecretContext } from '../../ports/secretCipher.ts';
import { aesGcmOpen, aesGcmSeal, KEY_BYTES } from '../../secrets/aesGcm.ts';

/** The key file's name in the data folder. */
export const KEY_FILE_NAME = 'secrets.key';
const PREFIX = 'enc:v1:';

export interface LocalSecretCipherOptions {
  /**
   * The key file: read if it exists, else created with a new random key (mode 0600). Without one the
   * key lives in memory only, which suits a store that does too (`npm start -- --memory`).
   */
  keyFile?: string;
}

/**
 * Seals hook secrets with AES-256-GCM under a key kept beside the store, as KMS keeps it on AWS:
 * `enc:v1:<key id>:<nonce|ciphertext|tag>`. The key id (8 hex digits of the key's SHA-256) lets a value
 * sealed under another key file fail with a message that says so, instead of a bare tag mismatch.
 *
 * @throws ConfigError when the key file exists but does not hold a 256-bit key
 */
export function createLocalSecretCipher(options: LocalSecretCipherOptions = {}): SecretCipher {
  const key = options.keyFile ? loadOrCreateKey(options.keyFile) : randomBytes(KEY_BYTES);
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const where = options.keyFile ?? 'the in-memory key';
  const open = (value: string, context: SecretContext): string => {
    if (!value.startsWith(PREFIX)) return value;
    const [id, payload] = value.slice(PREFIX.length).split(':', 2);
    if (id !== keyId || payload === undefined) {
      throw new SecretDecryptionError(
        `a secret of hook ${context.hookId} was sealed with key ${id}, but ${where} holds key ${keyId}: ` +
          'start with the key file the data folder was created with',
      );
    }
    return aesGcmOpen(key, payload, context);
  };
  return {
    seal: async (values, context) => values.map((value) => `${PREFIX}${keyId}:${aesGcmSeal(key, value, context)}`),
    open: async (values, context) => values.map((value) => open(value, context)),
  };
}

/** Reads the key file, or creates it (owner-only) when there is none. */
export function loadOrCreateKey(path: string): Buffer {
  try {
    // `wx`: two processes starting on one folder never write two different keys.
    writeFileSync(path, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A key file others can read is no secret: made owner-only, as the data folder is.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const text = readFileSync(path, 'utf8').trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new ConfigError(
      `${path} is not a secrets key file: it must hold one base64 256-bit key (delete it only if no hook secret was sealed with it)`,
    );
  }
  return key;
}
