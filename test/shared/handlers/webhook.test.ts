import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhook } from '../../../shared/handlers/webhook.ts';
import { type Receiver, startReceiver } from '../../support/rawReceiver.ts';
import { hookOf, type TestDeps, testDeps } from './fixtures.ts';

let remote: Receiver;
let deps: TestDeps;
beforeAll(async () => {
  remote = await startReceiver((req, res) => {
    const status = req.url === '/fail' ? 500 : 200;
    res.writeHead(status, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
    res.end(status === 200 ? 'thanks' : 'broken');
  });
  deps = testDeps();
});
afterAll(async () => {
  deps.http.close();
  await remote.close();
});

const event = { source: 'some_source', event: 'some_event', data: { some: 'data' } };

function lastRequest() {
  const seen = remote.requests.at(-1);
  if (!seen) throw new Error('the receiver saw no request');
  return seen;
}

function hmacSha1(secret: string, bytes: Buffer): string {
  return `sha1=${createHmac('sha1', secret).update(bytes).digest('hex')}`;
}

describe('webhook handler', () => {
  it("POSTs the data with event and source as JSON, like Kong's example", async () => {
    // Prepare
    const hook = hookOf('webhook', { url: `${remote.url}/hook`, headers: {}, secret: null, ssl_verify: false });

    // Act
    await webhook(hook, deps).callback(event);

    // Assess
    const seen = lastRequest();
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/hook');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({
      event: 'some_event',
      some: 'data',
      source: 'some_source',
    });
    expect(seen.headers['x-kong-signature']).toBeUndefined();
    expect(seen.headers['x-event-hooks-delivery']).toBeUndefined();
  });

  it('lets event and source win over data keys of the same name, without touching the data', async () => {
    // Prepare
    const data = { event: 'spoofed', source: 'spoofed', kept: 1 };
    const hook = hookOf('webhook', { url: remote.url, headers: {}, secret: null, ssl_verify: false });

    // Act
    await webhook(hook, deps).callback({ source: 's', event: 'e', data });

    // Assess
    expect(JSON.parse(lastRequest().body.toString('utf8'))).toEqual({ event: 'e', source: 's', kept: 1 });
    expect(data.event).toBe('spoofed');
  });

  it('sends the configured headers, with content-type forced to JSON', async () => {
    // Prepare
    const hook = hookOf('webhook', {
      url: remote.url,
      headers: { 'X-Team': 'platform', 'Content-Type': 'text/plain' },
      secret: null,
      ssl_verify: false,
    });

    // Act
    await webhook(hook, deps).callback(event);

    // Assess
    const seen = lastRequest();
    expect(seen.headers['x-team']).toBe('platform');
    expect(seen.headers['content-type']).toBe('application/json');
  });

  it('signs the exact bytes sent with HMAC-SHA1 of the secret', async () => {
    // Prepare
    const hook = hookOf('webhook', { url: remote.url, headers: {}, secret: 'hunter2', ssl_verify: false });

    // Act
    await webhook(hook, deps).callback({ ...event, data: { text: 'naïve ☃' } });

    // Assess
    const seen = lastRequest();
    expect(seen.headers['x-kong-signature']).toBe(hmacSha1('hunter2', seen.body));
    expect(seen.body.toString('utf8')).toContain('naïve ☃');
  });

  it('carries the delivery id and attempt so receivers can de-duplicate', async () => {
    // Prepare
    const hook = hookOf('webhook', { url: remote.url, headers: {}, secret: null, ssl_verify: false });

    // Act
    await webhook(hook, deps).callback(event, { deliveryId: 'dlv-42', attempt: 3, eventId: 'evt-1' });

    // Assess
    const seen = lastRequest();
    expect(seen.headers['x-event-hooks-delivery']).toBe('dlv-42');
    expect(seen.headers['x-event-hooks-attempt']).toBe('3');
  });

  it("resolves with the receiver's answer, also on a 5xx", async () => {
    // Prepare
    const hook = hookOf('webhook', { url: `${remote.url}/fail`, headers: {}, secret: null, ssl_verify: false });

    // Act
    const result = await webhook(hook, deps).callback(event);

    // Assess
    expect(result).toEqual({ status: 500, headers: expect.objectContaining({ 'x-receiver': 'yes' }), body: 'broken' });
  });

  it('pings with the hook entity as Kong sends it and the operation, signed, whatever the receiver answers', async () => {
    // Prepare
    const hook = hookOf('webhook', {
      url: remote.url,
      headers: { authorization: 'Bearer abc', 'x-team': 'platform' },
      secret: 'hunter2',
      ssl_verify: false,
    });

    // Act
    const result = await webhook(hook, deps).ping?.('create');

    // Assess
    const seen = lastRequest();
    const body = JSON.parse(seen.body.toString('utf8'));
    expect(body).toMatchObject({ source: 'kong:event_hooks', event: 'ping', operation: 'create' });
    expect(body.event_hooks).toEqual(hook);
    expect(seen.headers['x-kong-signature']).toBe(hmacSha1('hunter2', seen.body));
    expect(seen.headers.authorization).toBe('Bearer abc');
    // Kong's `/ping` answers with the body it sent.
    expect(result).toEqual(body);
  });

  it('pings without an operation field when none is given', async () => {
    // Prepare
    const hook = hookOf('webhook', { url: remote.url, headers: {}, secret: null, ssl_verify: false });

    // Act
    await webhook(hook, deps).ping?.();

    // Assess
    expect(Object.keys(JSON.parse(lastRequest().body.toString('utf8'))).sort()).toEqual([
      'event',
      'event_hooks',
      'source',
    ]);
  });
});
