import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/**
 * Issue 8, defect 3, through the whole local pipeline: a template past `TEMPLATE_MAX_BYTES` failed
 * with "Invalid string length", which was taken for a passing fault and retried. Now the delivery
 * worker dead-letters it after one attempt, with the reason, and the receiver sees nothing.
 */
describe('template budget in the delivery pipeline', () => {
  let t: TestRuntime;
  let receiver: Receiver;

  beforeAll(async () => {
    t = await startTestRuntime({
      env: {
        TEMPLATE_MAX_BYTES: '100000',
        RETRY_MAX_ATTEMPTS: '4',
        RETRY_BASE_DELAY_MS: '20',
        RETRY_MAX_DELAY_MS: '100',
      },
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  const amplifying = { items: Array.from({ length: 1500 }, (_, i) => i), big: '&'.repeat(1000) };

  it('dead-letters a delivery whose body passes the cap after one attempt, sending nothing', async () => {
    // Prepare
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook-custom',
      config: { url: `${receiver.url}/amplified`, method: 'POST', body: '{{#items}}{{big}}{{/items}}' },
    });
    expect(created.status).toBe(201);
    const hookId = created.body.id as string;

    // Act
    const emitted = await t.request('POST', '/events', { source: 'balancer', event: 'health', data: amplifying });
    expect(emitted.status).toBe(202);
    await t.runtime.bus.idle();
    await t.runtime.queue.idle();

    // Assess
    expect(receiver.requests).toHaveLength(0);
    const attempts = t.logs.filter((line) => line.message === 'delivery' && line.hook_id === hookId);
    expect(attempts.map((line) => [line.attempt, line.outcome])).toEqual([[1, 'dead-letter']]);
    const listed = await t.request('GET', '/dead-letters');
    const dead = (listed.body.data as { hook_id: string; attempts: number; reason: string }[]).filter(
      (letter) => letter.hook_id === hookId,
    );
    expect(dead).toEqual([
      expect.objectContaining({
        attempts: 1,
        reason:
          'not retryable: TemplateError: config.body: the rendered templates pass 100000 bytes (TEMPLATE_MAX_BYTES); nothing was sent',
      }),
    ]);
  });

  it('answers /test of such a hook with the reason, sending nothing', async () => {
    // Prepare
    const created = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook-custom',
      config: { url: `${receiver.url}/tested`, method: 'POST', body: '{{#items}}{{{big}}}{{/items}}' },
    });
    expect(created.status).toBe(201);

    // Act
    const tested = await t.request('POST', `/event-hooks/${created.body.id}/test`, amplifying);

    // Assess
    // Kong's answer for a failing `/test` (docs/reference.md §3): the reason in `err`.
    expect(tested.body).toEqual({
      message: 'An unexpected error ocurred',
      err: 'config.body: the rendered templates pass 100000 bytes (TEMPLATE_MAX_BYTES); nothing was sent',
    });
    expect(receiver.requests).toHaveLength(0);
  });
});
