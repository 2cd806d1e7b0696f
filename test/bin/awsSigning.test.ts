import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sha256, signingRegion } from '../../bin/lib/awsSigner.mjs';
import { cli } from './cliRun.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** Static credentials from the environment, and nothing else of the SDK's chain that could reach AWS. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_REGION: 'eu-west-1',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/**
 * Signs the received request again with the same library, credentials, region and date, over the
 * headers it says it signed: equal signatures mean API Gateway would accept it.
 */
async function expectedAuthorization(request: Received, region: string): Promise<string> {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const url = new URL(request.url, `http://${request.headers.host}`);
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name])]));
  // The payload hash is recomputed from the body received, not taken from the request's own header.
  if ('x-amz-content-sha256' in headers) {
    headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
  }
  const signer = new SignatureV4({ service: 'execute-api', region, credentials: CREDENTIALS, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(request.body ? { body: request.body } : {}),
    },
    { signingDate },
  );
  return signed.headers.authorization as string;
}

describe('event-hooks --aws', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(req.method === 'GET' ? JSON.stringify({ data: [], next: null }) : JSON.stringify({ id: 'e1' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs a GET with SigV4 for execute-api in AWS_REGION, with the caller’s credentials', async () => {
    received.length = 0;
    const result = await cli(['hooks', 'list', '--aws', '--url', url, '--json'], AWS_ENV);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [request] = received;
    const authorization = String(request!.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(authorization).toBe(await expectedAuthorization(request!, 'eu-west-1'));
  });

  it('signs a POST over its body, in the region --region names, and sends no API key', async () => {
    received.length = 0;
    const result = await cli(
      ['emit', 'crud', 'consumers:create', '{"a":1}', '--aws', '--region', 'us-east-2', '--url', `${url}/`],
      { ...AWS_ENV, EVENT_HOOKS_KEY: 'eh_should_not_be_sent' },
    );
    expect(result.code).toBe(0);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(String(request!.headers.authorization)).toContain('/us-east-2/execute-api/aws4_request');
    expect(String(request!.headers.authorization)).toBe(await expectedAuthorization(request!, 'us-east-2'));
    expect(JSON.stringify(request!.headers)).not.toContain('eh_should_not_be_sent');
    // the signature covers the body: another body would not match it
    const tampered = await expectedAuthorization({ ...request!, body: '{"a":2}' }, 'us-east-2');
    expect(tampered).not.toBe(request!.headers.authorization);
  });

  it('refuses --aws with --key, and --aws without a region, as usage errors', async () => {
    const both = await cli(['hooks', 'list', '--aws', '--key', 'k', '--url', url], AWS_ENV);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--aws or --key');
    const { AWS_REGION: _region, ...withoutRegion } = AWS_ENV;
    const noRegion = await cli(['hooks', 'list', '--aws', '--url', url], withoutRegion);
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('region');
  });
});

describe('signingRegion', () => {
  it('prefers the flag, then AWS_REGION, then the execute-api host name', () => {
    const api = 'https://abc123.execute-api.ap-south-1.amazonaws.com';
    expect(signingRegion('eu-west-3', api, { AWS_REGION: 'us-east-1' })).toBe('eu-west-3');
    expect(signingRegion(undefined, api, { AWS_REGION: 'us-east-1' })).toBe('us-east-1');
    expect(signingRegion(undefined, api, {})).toBe('ap-south-1');
  });
});
