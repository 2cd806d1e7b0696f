import { createHash, createHmac } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startDynalite } from '../../../infra/local/embeddedStore.ts';
import type { StoreCredentials } from '../../../infra/local/storeCredential.ts';
import { createDocumentClient, ensureTable } from '../../../shared/store/dynamo.ts';

/** node:crypto as the signer's hash, the same way the store verifies. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.hash.update(bytes(data));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

describe('embedded store: per-start credential', () => {
  let store: EmbeddedStore;
  const TABLE = 'credential-test';

  beforeAll(async () => {
    store = await startDynalite();
    const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
    await ensureTable(client, TABLE);
    await client.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 's', secret: 'hunter2' } }));
    client.destroy();
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A raw DynamoDB request, as a hook's `webhook-custom` request would send it. */
  async function raw(target: string, body: unknown, headers: Record<string, string>) {
    const url = new URL(store.endpoint);
    const res = await fetch(store.endpoint, {
      method: 'POST',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${target}`,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text || '{}') as { __type?: string; Items?: unknown } };
  }

  /** Headers of a request correctly signed with `credentials` at `date`. */
  async function signed(
    credentials: StoreCredentials,
    target: string,
    body: string,
    date = new Date(),
    applyChecksum = true,
  ) {
    const url = new URL(store.endpoint);
    const signer = new SignatureV4({
      credentials,
      region: 'us-east-1',
      service: 'dynamodb',
      sha256: Sha256,
      applyChecksum,
    });
    const request = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        headers: {
          host: url.host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${target}`,
        },
        body,
      },
      { signingDate: date },
    );
    return request.headers as Record<string, string>;
  }

  it('serves the clients it gave the credential to', async () => {
    const client = createDocumentClient({ endpoint: store.endpoint, credentials: store.credentials });
    try {
      const { Item } = await client.send(new GetCommand({ TableName: TABLE, Key: { pk: 'p', sk: 's' } }));
      expect(Item?.secret).toBe('hunter2');
    } finally {
      client.destroy();
    }
  });

  it('generates a different key at every start', async () => {
    const other = await startDynalite();
    try {
      expect(other.credentials.accessKeyId).not.toBe(store.credentials.accessKeyId);
      expect(other.credentials.secretAccessKey).not.toBe(store.credentials.secretAccessKey);
    } finally {
      await other.close();
    }
  });

  it('refuses a Scan without authorization, and one with a dummy authorization', async () => {
    const missing = await raw('Scan', { TableName: TABLE }, { 'x-amz-date': '20240101T000000Z' });
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toBe('com.amazon.coral.service#MissingAuthenticationTokenException');

    const dummy = await raw(
      'Scan',
      { TableName: TABLE },
      {
        'x-amz-date': '20240101T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
    );
    expect(dummy.status).toBe(400);
    expect(dummy.body.__type).toMatch(/#(UnrecognizedClientException|InvalidSignatureException)$/);
    expect(dummy.text).not.toContain('hunter2');
  });

  it('refuses a request correctly signed with another key (the SDK client sees UnrecognizedClientException)', async () => {
    const stranger = new DynamoDBClient({
      endpoint: store.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      await expect(stranger.send(new ListTablesCommand({}))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    } finally {
      stranger.destroy();
    }
  });

  it('refuses the right key id with a wrong secret: the signature itself is verified', async () => {
    const body = JSON.stringify({ TableName: TABLE });
    const forged = { accessKeyId: store.credentials.accessKeyId, secretAccessKey: 'guessed' };
    const res = await raw('Scan', { TableName: TABLE }, await signed(forged, 'Scan', body));
    expect(res.status).toBe(400);
    expect(res.body.__type).toBe('com.amazon.coral.service#InvalidSignatureException');
    expect(res.text).not.toContain('hunter2');
  });

  it('refuses a signed request whose body was changed, and one signed too long ago', async () => {
    const headers = await signed(store.credentials, 'Scan', JSON.stringify({ TableName: 'other' }));
    const tampered = await raw('Scan', { TableName: TABLE }, headers);
    expect(tampered.status).toBe(400);
    expect(tampered.body.__type).toBe('com.amazon.coral.service#InvalidSignatureException');
    // Without a body hash header (as the DynamoDB client signs) the signature covers the bytes themselves.
    const unhashed = await signed(store.credentials, 'Scan', JSON.stringify({ TableName: 'other' }), new Date(), false);
    expect(unhashed['x-amz-content-sha256']).toBeUndefined();
    const bare = await raw('Scan', { TableName: TABLE }, unhashed);
    expect(bare.status).toBe(400);
    expect(bare.body.__type).toBe('com.amazon.coral.service#InvalidSignatureException');

    const body = JSON.stringify({ TableName: TABLE });
    const old = await signed(store.credentials, 'Scan', body, new Date(Date.now() - 60 * 60 * 1000));
    const expired = await raw('Scan', { TableName: TABLE }, old);
    expect(expired.status).toBe(400);
    expect(expired.body.__type).toBe('com.amazon.coral.service#InvalidSignatureException');
  });

  it('answers a correctly signed raw request (the check is the signature, not the client)', async () => {
    const body = JSON.stringify({ TableName: TABLE });
    const res = await raw('Scan', { TableName: TABLE }, await signed(store.credentials, 'Scan', body));
    expect(res.status).toBe(200);
    expect(res.text).toContain('hunter2');
  });
});
