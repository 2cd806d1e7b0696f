import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, handlers } from '../../../shared/handlers/index.ts';
import { HANDLER_NAMES } from '../../../shared/hooks/hook.ts';
import { type Receiver, startReceiver } from '../../support/rawReceiver.ts';
import { hookOf, recordingRunner, type TestDeps, testDeps } from './fixtures.ts';

let remote: Receiver;
let deps: TestDeps;
beforeAll(async () => {
  remote = await startReceiver();
  deps = testDeps(recordingRunner({ 'my-fn': ({ data }) => ({ echoed: data }) }));
});
afterAll(async () => {
  deps.http.close();
  await remote.close();
});

const event = { source: 'crud', event: 'consumers', data: { id: 'c1' } };

describe('handler registry', () => {
  it('has a factory for every handler name and nothing else', () => {
    expect(Object.keys(handlers).sort()).toEqual([...HANDLER_NAMES].sort());
  });

  it('builds each hook with the factory of its handler name', async () => {
    // Prepare
    const webhook = createHandler(
      hookOf('webhook', { url: remote.url, headers: {}, secret: null, ssl_verify: false }),
      deps,
    );
    const log = createHandler(hookOf('log', {}), deps);
    const lambda = createHandler(hookOf('lambda', { functions: ['my-fn'] }), deps);

    // Act
    const results = [await webhook.callback(event), await log.callback(event), await lambda.callback(event)];

    // Assess
    expect(results[0]).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(remote.requests).toHaveLength(1);
    expect(results[1]).toEqual({ logged: true });
    expect(deps.logger.lines.filter((line) => line.message === 'event hook')).toHaveLength(1);
    expect(results[2]).toEqual({ echoed: { id: 'c1' } });
  });

  it('offers ping for webhook only', () => {
    // Act
    const pings = Object.fromEntries(
      [
        hookOf('webhook', { url: remote.url, headers: {}, secret: null, ssl_verify: false }),
        hookOf('webhook-custom', {
          url: remote.url,
          method: 'POST',
          payload: null,
          payload_format: true,
          body: null,
          body_format: true,
          headers: null,
          headers_format: false,
          secret: null,
          ssl_verify: false,
        }),
        hookOf('log', {}),
        hookOf('lambda', { functions: ['my-fn'] }),
      ].map((hook) => [hook.handler, typeof createHandler(hook, deps).ping]),
    );

    // Assess
    expect(pings).toEqual({
      webhook: 'function',
      'webhook-custom': 'undefined',
      log: 'undefined',
      lambda: 'undefined',
    });
  });
});
