import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalSecretCipher, loadOrCreateKey } from '../../../../shared/adapters/local/secretCipher.ts';
import { ConfigError } from '../../../../shared/config.ts';
import { SecretDecryptionError } from '../../../../shared/errors.ts';
import { isSealed } from '../../../../shared/ports/secretCipher.ts';

const hook = { tenant: 'acme', hookId: '6f0b1c2e-0000-4000-8000-000000000001' };

describe('the local secret cipher (key file in the data folder)', () => {
  const dirs: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'eh-key-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the key file on first use, owner-only, holding one 256-bit key, and reuses it', () => {
    const file = join(folder(), 'secrets.key');
    const key = loadOrCreateKey(file);
    expect(key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateKey(file).equals(key)).toBe(true);
  });

  it('makes a key file others can read owner-only again', () => {
    const file = join(folder(), 'secrets.key');
    writeFileSync(file, `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o644 });
    loadOrCreateKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that does not hold a 256-bit key, naming the file', () => {
    const file = join(folder(), 'secrets.key');
    writeFileSync(file, 'not a key\n', { mode: 0o600 });
    expect(() => createLocalSecretCipher({ keyFile: file })).toThrow(ConfigError);
    writeFileSync(file, `${Buffer.alloc(16).toString('base64')}\n`);
    expect(() => createLocalSecretCipher({ keyFile: file })).toThrow(new RegExp(`${file} is not a secrets key file`));
  });

  it('seals each value under a fresh nonce with a versioned prefix, and opens it again across restarts', async () => {
    const file = join(folder(), 'secrets.key');
    const sealed = await createLocalSecretCipher({ keyFile: file }).seal(['hunter2', 'hunter2'], hook);
    expect(sealed.every((value) => /^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/.test(value) && isSealed(value))).toBe(true);
    expect(sealed[0]).not.toBe(sealed[1]);
    expect(sealed.join()).not.toContain('hunter2');
    // A new cipher on the same file: what a restart of the local runtime does.
    expect(await createLocalSecretCipher({ keyFile: file }).open(sealed, hook)).toEqual(['hunter2', 'hunter2']);
  });

  it('reads plaintext written before sealing as it is', async () => {
    const cipher = createLocalSecretCipher();
    expect(await cipher.open(['hunter2', 'Bearer abc'], hook)).toEqual(['hunter2', 'Bearer abc']);
  });

  it('fails clearly under another key file, and for a value moved to another hook or altered', async () => {
    const cipher = createLocalSecretCipher({ keyFile: join(folder(), 'secrets.key') });
    const [sealed] = (await cipher.seal(['hunter2'], hook)) as [string];
    const other = createLocalSecretCipher({ keyFile: join(folder(), 'secrets.key') });
    await expect(other.open([sealed], hook)).rejects.toThrow(SecretDecryptionError);
    await expect(other.open([sealed], hook)).rejects.toThrow(
      /was sealed with key [0-9a-f]{8}, but .*secrets\.key holds key/,
    );
    await expect(cipher.open([sealed], { ...hook, hookId: 'another' })).rejects.toThrow(SecretDecryptionError);
    await expect(cipher.open([sealed], { ...hook, tenant: 'globex' })).rejects.toThrow(SecretDecryptionError);
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'AB' : 'AA'}`;
    await expect(cipher.open([flipped], hook)).rejects.toThrow(/does not open/);
  });

  it('keeps the key in memory only when there is no data folder: another process cannot open it', async () => {
    const [sealed] = (await createLocalSecretCipher().seal(['hunter2'], hook)) as [string];
    await expect(createLocalSecretCipher().open([sealed], hook)).rejects.toThrow(SecretDecryptionError);
  });
});
