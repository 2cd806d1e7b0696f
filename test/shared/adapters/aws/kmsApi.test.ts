import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsHttpApi } from '../../../../shared/adapters/aws/kmsApi.ts';
import { createKmsSecretCipher } from '../../../../shared/adapters/aws/secretCipher.ts';
import { SecretDecryptionError } from '../../../../shared/errors.ts';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-aaaa-bbbb-cccc-000000000001';

/** KMS's JSON API on 127.0.0.1: records each call, answers GenerateDataKey and Decrypt like KMS. */
async function startKms() {
  const calls: { target: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  const dataKey = Buffer.alloc(32, 3);
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const target = String(req.headers['x-amz-target']);
    const body = JSON.parse(raw) as Record<string, unknown>;
    calls.push({ target, headers: req.headers, body });
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
    };
    if (target === 'TrentService.GenerateDataKey') {
      send(200, {
        KeyId: KEY_ARN,
        Plaintext: dataKey.toString('base64'),
        CiphertextBlob: Buffer.from('wrapped').toString('base64'),
      });
    } else if (Buffer.from(String(body.CiphertextBlob), 'base64').toString() !== 'wrapped') {
      send(400, { __type: 'com.amazonaws.kms#InvalidCiphertextException', message: 'bad blob' });
    } else if ((body.EncryptionContext as Record<string, string>).tenant === 'throttled') {
      send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    } else {
      send(200, { KeyId: KEY_ARN, Plaintext: dataKey.toString('base64') });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, calls, server };
}

describe('kmsHttpApi (KMS over signed JSON requests)', () => {
  let kms: Awaited<ReturnType<typeof startKms>>;
  const saved = { ...process.env };
  beforeAll(async () => {
    kms = await startKms();
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'tok',
    });
  });
  afterAll(() => {
    process.env = saved;
    kms.server.close();
  });

  it('sends SigV4-signed GenerateDataKey and Decrypt calls with the encryption context, blobs in base64', async () => {
    const api = kmsHttpApi({ endpoint: kms.url, region: 'eu-west-1' });
    const cipher = createKmsSecretCipher({ keyId: KEY_ARN, kms: api });
    const context = { tenant: 'acme', hookId: 'h1' };
    const sealed = await cipher.seal(['whsec_abc'], context);
    expect(sealed[0]).toMatch(/^enc:kms1:/);
    // A fresh cipher (another execution environment) must ask KMS to decrypt the data key.
    expect(await createKmsSecretCipher({ keyId: KEY_ARN, kms: api }).open(sealed, context)).toEqual(['whsec_abc']);
    expect(kms.calls.map((c) => c.target)).toEqual(['TrentService.GenerateDataKey', 'TrentService.Decrypt']);
    for (const call of kms.calls) {
      expect(call.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(call.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
      );
      expect(call.headers['x-amz-security-token']).toBe('tok');
      expect(call.body).toMatchObject({ KeyId: KEY_ARN, EncryptionContext: { tenant: 'acme', hook: 'h1' } });
    }
    expect(kms.calls[0]?.body.KeySpec).toBe('AES_256');
    expect(kms.calls[1]?.body.CiphertextBlob).toBe(Buffer.from('wrapped').toString('base64'));
  });

  it("names errors by KMS's type, so a foreign blob is a SecretDecryptionError and throttling stays throttling", async () => {
    const api = kmsHttpApi({ endpoint: kms.url, region: 'eu-west-1' });
    const cipher = createKmsSecretCipher({ keyId: KEY_ARN, kms: api });
    const foreign = `enc:kms1:${Buffer.from('other').toString('base64url')}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    await expect(cipher.open([foreign], { tenant: 'acme', hookId: 'h1' })).rejects.toThrow(SecretDecryptionError);
    const wrapped = `enc:kms1:${Buffer.from('wrapped').toString('base64url')}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    await expect(cipher.open([wrapped], { tenant: 'throttled', hookId: 'h1' })).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
    });
  });
});
