import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../../shared/errors.ts';
import {
  classifyResponse,
  createHttpSender,
  type HttpSender,
  type HttpSenderOptions,
  parseRetryAfter,
} from '../../../shared/http/httpSender.ts';
import {
  closedPort,
  type Receiver,
  type Respond,
  selfSignedCertificate,
  startReceiver,
} from '../../support/rawReceiver.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(respond?: Respond, tls?: { key: Buffer; cert: Buffer }): Promise<Receiver> {
  const started = await startReceiver(respond, tls);
  cleanups.push(() => started.close());
  return started;
}

function sender(options?: HttpSenderOptions): HttpSender {
  const created = createHttpSender(options);
  cleanups.push(() => created.close());
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe('httpSender', () => {
  it('sends the method, headers and exact body bytes, and reports the answer', async () => {
    // Prepare
    const remote = await receiver((_req, res) => {
      res.writeHead(201, { 'x-answer': 'yes', 'set-cookie': ['a=1', 'b=2'] });
      res.end('créé');
    });
    const body = Buffer.from([0x7b, 0xc3, 0xa9, 0x7d]);

    // Act
    const res = await sender({ userAgent: 'test-agent' }).send({
      method: 'PUT',
      url: `${remote.url}/in?x=1`,
      headers: { 'X-Custom': 'v', 'Content-Length': '999' },
      body,
      sslVerify: true,
    });

    // Assess
    const [seen] = remote.requests;
    expect(seen?.method).toBe('PUT');
    expect(seen?.url).toBe('/in?x=1');
    expect(seen?.headers['x-custom']).toBe('v');
    expect(seen?.headers['user-agent']).toBe('test-agent');
    expect(seen?.headers['content-length']).toBe('4');
    expect(seen?.body.equals(body)).toBe(true);
    expect(res).toMatchObject({ status: 201, body: 'créé', truncated: false });
    expect(res.headers['x-answer']).toBe('yes');
    expect(res.headers['set-cookie']).toBe('a=1, b=2');
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps response headers a receiver names like Object.prototype members as plain headers', async () => {
    // Prepare: raw header pairs, so the names reach the sender exactly as written
    const remote = await receiver((_req, res) => {
      res.writeHead(200, ['constructor', 'x', 'toString', 'y', '__proto__', 'z', 'constructor', 'x2']);
      res.end('ok');
    });

    // Act
    const res = await sender().send({ method: 'POST', url: remote.url, headers: {}, body: '{}', sslVerify: false });

    // Assess
    expect(res.rawHeaders.constructor).toBe('x, x2');
    expect(res.rawHeaders.toString).toBe('y');
    expect(Object.getOwnPropertyDescriptor(res.rawHeaders, '__proto__')?.value).toBe('z');
    expect(res.headers.constructor).toBe('x, x2');
    expect(({} as Record<string, unknown>).z).toBeUndefined();
  });

  it('reports 4xx and 5xx answers instead of rejecting', async () => {
    // Prepare
    const remote = await receiver((_req, res) => {
      res.writeHead(503, { 'retry-after': '7' });
      res.end('busy');
    });

    // Act
    const res = await sender().send({ method: 'POST', url: remote.url, headers: {}, body: '{}', sslVerify: false });

    // Assess
    expect(res.status).toBe(503);
    expect(res.body).toBe('busy');
    expect(res.headers['retry-after']).toBe('7');
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    // Prepare
    const remote = await receiver();
    const http = sender();

    // Act
    await http.send({ method: 'POST', url: remote.url, headers: {}, body: 'one', sslVerify: false });
    await http.send({ method: 'POST', url: remote.url, headers: {}, body: 'two', sslVerify: false });

    // Assess
    expect(remote.requests).toHaveLength(2);
    expect(remote.requests[0]?.remotePort).toBe(remote.requests[1]?.remotePort);
  });

  it('rejects with a retryable DeliveryError when the receiver never answers', async () => {
    // Prepare
    const remote = await receiver(() => {
      // never answers
    });

    // Act
    const error = await rejection(
      sender({ responseTimeoutMs: 200 }).send({
        method: 'POST',
        url: remote.url,
        headers: {},
        body: 'x',
        sslVerify: false,
      }),
    );

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('response timeout');
    expect(remote.requests).toHaveLength(1);
  });

  it('rejects with a retryable connect timeout when the TLS handshake never completes', async () => {
    // Prepare: a TCP server that accepts and then stays silent
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;

    // Act
    const error = await rejection(
      sender({ connectTimeoutMs: 200 }).send({
        method: 'POST',
        url: `https://127.0.0.1:${port}/`,
        headers: {},
        body: 'x',
        sslVerify: false,
      }),
    );

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('connect timeout');
  });

  it('rejects with a retryable DeliveryError when the connection is refused', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const error = await rejection(
      sender().send({ method: 'POST', url: `http://127.0.0.1:${port}/`, headers: {}, body: 'x', sslVerify: false }),
    );

    // Assess
    expect(error.retryable).toBe(true);
    expect(error.statusCode).toBeUndefined();
  });

  it('keeps at most maxResponseBytes of the body, drains the rest and keeps the connection', async () => {
    // Prepare
    const remote = await receiver((_req, res) => {
      res.writeHead(200);
      res.end('a'.repeat(200_000));
    });
    const http = sender({ maxResponseBytes: 1_000 });

    // Act
    const first = await http.send({ method: 'GET', url: remote.url, headers: {}, sslVerify: false });
    const second = await http.send({ method: 'GET', url: remote.url, headers: {}, sslVerify: false });

    // Assess
    expect(first.body).toBe('a'.repeat(1_000));
    expect(first.truncated).toBe(true);
    expect(second.truncated).toBe(true);
    expect(remote.requests[0]?.remotePort).toBe(remote.requests[1]?.remotePort);
  });

  it('keeps a truncated answer when only the discarded tail of the body is slow', async () => {
    // Prepare
    const remote = await receiver((_req, res) => {
      res.writeHead(202);
      res.write('b'.repeat(5_000)); // and never ends
    });

    // Act
    const res = await sender({ maxResponseBytes: 100, responseTimeoutMs: 300 }).send({
      method: 'GET',
      url: remote.url,
      headers: {},
      sslVerify: false,
    });

    // Assess
    expect(res).toMatchObject({ status: 202, body: 'b'.repeat(100), truncated: true });
  });

  it('rejects a body that stops in the middle with a retryable DeliveryError', async () => {
    // Prepare
    const remote = await receiver((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => res.destroy());
    });

    // Act
    const error = await rejection(sender().send({ method: 'GET', url: remote.url, headers: {}, sslVerify: false }));

    // Assess
    expect(error.retryable).toBe(true);
  });

  describe('https', () => {
    const tls = selfSignedCertificate();

    it('talks to a self-signed server when ssl_verify is false', async () => {
      // Prepare
      const remote = await receiver(undefined, tls);

      // Act
      const res = await sender().send({ method: 'POST', url: remote.url, headers: {}, body: 'hi', sslVerify: false });

      // Assess
      expect(res.status).toBe(200);
      expect(remote.requests[0]?.body.toString()).toBe('hi');
    });

    it('refuses a self-signed server when ssl_verify is true, even after an unverified request to it', async () => {
      // Prepare
      const remote = await receiver(undefined, tls);
      const http = sender();
      await http.send({ method: 'POST', url: remote.url, headers: {}, body: 'hi', sslVerify: false });

      // Act
      const error = await rejection(
        http.send({ method: 'POST', url: remote.url, headers: {}, body: 'hi', sslVerify: true }),
      );

      // Assess
      expect(error.retryable).toBe(true);
      expect(remote.requests).toHaveLength(1);
    });
  });

  describe('blockPrivateNetworks', () => {
    it.each([
      ['an address literal', (port: number) => `http://127.0.0.1:${port}/`],
      ['a name that resolves to loopback', (port: number) => `http://localhost:${port}/`],
    ])('refuses %s without connecting, not retryable', async (_label, url) => {
      // Prepare
      const remote = await receiver();

      // Act
      const error = await rejection(
        sender({ blockPrivateNetworks: true }).send({
          method: 'POST',
          url: url(remote.port),
          headers: {},
          body: 'x',
          sslVerify: false,
        }),
      );

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('not allowed');
      expect(remote.requests).toHaveLength(0);
    });

    it('lets loopback through when the policy is off (the local runtime)', async () => {
      // Prepare
      const remote = await receiver();

      // Act
      const res = await sender().send({
        method: 'GET',
        url: `http://localhost:${remote.port}/`,
        headers: {},
        sslVerify: false,
      });

      // Assess
      expect(res.status).toBe(200);
    });
  });

  describe("the service's own listeners (refused in every mode)", () => {
    it.each([
      ['an address literal', (port: number) => `http://127.0.0.1:${port}/`],
      ['a name that resolves to loopback (checked in the DNS lookup)', (port: number) => `http://localhost:${port}/`],
      ['another loopback address', (port: number) => `http://127.0.0.2:${port}/`],
      ['IPv6 loopback', (port: number) => `http://[::1]:${port}/`],
      ['the unspecified address', (port: number) => `http://0.0.0.0:${port}/`],
      ['an IPv4-mapped IPv6 address', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
      ['a decimal IPv4 address', (port: number) => `http://2130706433:${port}/`],
      ['a hex IPv4 address', (port: number) => `http://0x7f000001:${port}/`],
    ])('refuses %s with blocking off, without connecting, not retryable', async (_label, url) => {
      // Prepare
      const own = await receiver();
      const http = sender({ ownEndpoints: [own.url] });

      // Act
      const error = await rejection(
        http.send({ method: 'POST', url: url(own.port), headers: {}, body: 'x', sslVerify: false }),
      );

      // Assess
      expect(error.retryable).toBe(false);
      expect(error.message).toContain("this service's own listener");
      expect(own.requests).toHaveLength(0);
    });

    it('refuses a listener added after the sender was built, and still reaches other loopback ports', async () => {
      // Prepare
      const own = await receiver();
      const other = await receiver();
      const http = sender();
      http.destinations.addOwnEndpoint(`http://127.0.0.1:${own.port}`);

      // Act
      const error = await rejection(
        http.send({ method: 'GET', url: `http://localhost:${own.port}/`, headers: {}, sslVerify: false }),
      );
      const res = await http.send({
        method: 'GET',
        url: `http://localhost:${other.port}/`,
        headers: {},
        sslVerify: false,
      });

      // Assess
      expect(error.message).toContain("this service's own listener");
      expect(own.requests).toHaveLength(0);
      expect(res.status).toBe(200);
    });
  });

  it('never sends framing or hop-by-hop headers from the caller: what goes on the wire is framed by the sender', async () => {
    // Prepare
    const remote = await receiver();
    const body = 'exactly this';

    // Act
    const res = await sender().send({
      method: 'POST',
      url: `${remote.url}/in`,
      headers: {
        'Transfer-Encoding': 'chunked',
        'Content-Length': '1',
        Host: 'evil.example',
        Connection: 'close, x-drop-me',
        Upgrade: 'websocket',
        TE: 'trailers',
        Trailer: 'x-after',
        'Keep-Alive': 'timeout=999',
        'Proxy-Authorization': 'Basic Zm9vOmJhcg==',
        'proxy-connection': 'keep-alive',
        'x-kept': 'yes',
      },
      body,
      sslVerify: false,
    });

    // Assess
    expect(res.status).toBe(200);
    const [seen] = remote.requests;
    expect(seen?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen?.headers['transfer-encoding']).toBeUndefined();
    expect(seen?.headers.host).toBe(`127.0.0.1:${remote.port}`);
    for (const name of ['upgrade', 'te', 'trailer', 'keep-alive', 'proxy-authorization', 'proxy-connection']) {
      expect(seen?.headers[name], name).toBeUndefined();
    }
    expect(seen?.headers.connection).toBe('keep-alive');
    expect(seen?.headers['x-kept']).toBe('yes');
    expect(seen?.body.toString()).toBe(body);
  });

  it.each([
    ['an invalid URL', { url: 'not a url' }],
    ['an unsupported protocol', { url: 'ftp://127.0.0.1/' }],
    ['a header value with a line break', { headers: { 'x-bad': 'a\r\nb' } }],
  ])('rejects %s as a non-retryable DeliveryError', async (_label, override) => {
    // Prepare
    const remote = await receiver();

    // Act
    const error = await rejection(
      sender().send({ method: 'POST', url: remote.url, headers: {}, body: 'x', sslVerify: false, ...override }),
    );

    // Assess
    expect(error.retryable).toBe(false);
    expect(remote.requests).toHaveLength(0);
  });

  it('never puts the URL path (which may hold a token) into error messages', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const error = await rejection(
      sender().send({
        method: 'POST',
        url: `http://127.0.0.1:${port}/services/T0/B0/s3cr3t`,
        headers: {},
        sslVerify: false,
      }),
    );

    // Assess
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });
});

const NOW = Date.parse('2024-05-01T12:00:00Z');

describe('classifyResponse', () => {
  it.each([200, 201, 204, 299])('treats %i as delivered', (status) => {
    expect(classifyResponse({ status, headers: {} }, NOW)).toBeUndefined();
  });

  it.each([301, 302, 304, 307, 308])('treats %i as a final failure: redirects are not followed', (status) => {
    const error = classifyResponse({ status, headers: { location: 'https://elsewhere.example/path?token=x' } }, NOW);
    expect(error).toMatchObject({ retryable: false, statusCode: status });
    expect(error?.message).toBe(
      `receiver answered HTTP ${status} (redirect to https://elsewhere.example not followed)`,
    );
  });

  it.each([
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, true],
    [410, false],
    [413, false],
    [422, false],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [599, true],
  ])('judges %i as retryable=%s, with its status code', (status, retryable) => {
    // Act
    const error = classifyResponse({ status, headers: {} }, NOW);

    // Assess
    expect(error?.retryable).toBe(retryable);
    expect(error?.statusCode).toBe(status);
    expect(error?.retryAfterMs).toBeUndefined();
  });

  it.each([
    [429, { 'retry-after': '30' }, 30_000],
    [503, { 'Retry-After': '5' }, 5_000],
    [503, { 'retry-after': 'Wed, 01 May 2024 12:01:00 GMT' }, 60_000],
    [500, { 'retry-after': '30' }, undefined],
    [502, { 'retry-after': '30' }, undefined],
    [429, { 'retry-after': 'soon' }, undefined],
  ])('on %i with %j waits %s ms', (status, headers, expected) => {
    expect(classifyResponse({ status, headers }, NOW)?.retryAfterMs).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['1', 1_000],
    [' 120 ', 120_000],
    ['Wed, 01 May 2024 12:00:10 GMT', 10_000],
    ['Wednesday, 01-May-24 12:00:10 GMT', 10_000],
    ['Wed May  1 12:00:10 2024', 10_000],
    ['Wed, 01 May 2024 11:00:00 GMT', 0],
    [undefined, undefined],
    ['', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    ['tomorrow', undefined],
  ])('reads %j as %s ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
