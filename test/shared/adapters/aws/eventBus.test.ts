import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsEventBus, putEventsEntrySize } from '../../../../shared/adapters/aws/eventBus.ts';
import { EventHooksError, PayloadTooLargeError } from '../../../../shared/errors.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import type { NewEvent } from '../../../../shared/ports/eventBus.ts';

const client = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const eventBridge = mockClient(client);
const NOW = Date.parse('2025-03-04T05:06:07.890Z');

function event(n: number, data: Record<string, unknown> = { n }): NewEvent {
  return { tenant: 'acme', source: 'crud', event: 'consumers', data };
}

/** Answers every PutEvents with one id per entry, failing the entries `fail` picks (by detail). */
function answerWith(fail: (entry: PutEventsRequestEntry, call: number) => string | undefined = () => undefined) {
  let call = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    call++;
    const entries = input.Entries.map((entry) => {
      const code = fail(entry, call);
      return code ? { ErrorCode: code, ErrorMessage: `${code} happened` } : { EventId: `id-${entry.Detail}` };
    });
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  });
}

function sentEntries(): PutEventsRequestEntry[][] {
  return eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
}

describe('createAwsEventBus', () => {
  const sleeps: number[] = [];
  const bus = () =>
    createAwsEventBus({
      busName: 'hooks-bus',
      client,
      clock: new ManualClock(NOW),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    });

  beforeEach(() => {
    eventBridge.reset();
    sleeps.length = 0;
  });

  it('maps each event to a PutEvents entry and returns it with the EventBridge id and time', async () => {
    // Prepare
    answerWith();

    // Act
    const accepted = await bus().publish([event(1, { some: 'data' })]);

    // Assess
    expect(sentEntries()).toEqual([
      [
        {
          EventBusName: 'hooks-bus',
          Source: 'crud',
          DetailType: 'consumers',
          Detail: '{"some":"data"}',
          Resources: ['event-hooks:tenant/acme'],
          Time: new Date('2025-03-04T05:06:07.000Z'),
        },
      ],
    ]);
    expect(accepted).toEqual([
      {
        id: 'id-{"some":"data"}',
        time: '2025-03-04T05:06:07Z',
        tenant: 'acme',
        source: 'crud',
        event: 'consumers',
        data: { some: 'data' },
      },
    ]);
  });

  it('sends at most 10 entries per call and keeps the order of the ids', async () => {
    // Prepare
    answerWith();
    const events = Array.from({ length: 23 }, (_, n) => event(n));

    // Act
    const accepted = await bus().publish(events);

    // Assess
    expect(sentEntries().map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(accepted.map((e) => e.id)).toEqual(events.map((e) => `id-${JSON.stringify(e.data)}`));
  });

  it('starts a new call before the entries of one call reach 256 KiB', async () => {
    // Prepare: three events of ~100 KB fit two to a call
    answerWith();
    const big = (n: number) => event(n, { n, pad: 'x'.repeat(100_000) });

    // Act
    await bus().publish([big(1), big(2), big(3)]);

    // Assess
    const batches = sentEntries();
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    for (const batch of batches) {
      expect(batch.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0)).toBeLessThan(256 * 1024);
    }
  });

  it('rejects an event larger than EventBridge accepts without calling it', async () => {
    // Act
    const publishing = bus().publish([event(1, { pad: 'x'.repeat(300_000) })]);

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(sentEntries()).toHaveLength(0);
  });

  it('retries only the failed entries, with backoff, and resolves once all are accepted', async () => {
    // Prepare: entry 2 is throttled on the first call
    answerWith((entry, call) => (call === 1 && entry.Detail === '{"n":2}' ? 'ThrottlingException' : undefined));

    // Act
    const accepted = await bus().publish([event(1), event(2), event(3)]);

    // Assess
    expect(sentEntries().map((batch) => batch.map((e) => e.Detail))).toEqual([
      ['{"n":1}', '{"n":2}', '{"n":3}'],
      ['{"n":2}'],
    ]);
    expect(sleeps).toHaveLength(1);
    expect(accepted.map((e) => e.id)).toEqual(['id-{"n":1}', 'id-{"n":2}', 'id-{"n":3}']);
  });

  it('rejects naming the entries that still fail after the last attempt', async () => {
    // Prepare
    answerWith((entry) => (entry.Detail === '{"n":2}' ? 'InternalFailure' : undefined));

    // Act
    const publishing = bus().publish([event(1), event(2)]);

    // Assess: 4 attempts in all, 3 waits, and the message says which event failed and why
    await expect(publishing).rejects.toThrow(
      /did not accept 1 of 2 events after 4 attempt\(s\): event 1: InternalFailure/,
    );
    expect(sentEntries()).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]!);
  });

  it('does not retry an entry EventBridge calls malformed', async () => {
    // Prepare
    answerWith(() => 'MalformedDetail');

    // Act
    const publishing = bus().publish([event(1)]);

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(EventHooksError);
    expect(sentEntries()).toHaveLength(1);
    expect(sleeps).toHaveLength(0);
  });

  it('turns a failed call into an EventHooksError carrying the SDK error', async () => {
    // Prepare
    const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    eventBridge.on(PutEventsCommand).rejects(denied);

    // Act
    const error = await bus()
      .publish([event(1)])
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(EventHooksError);
    expect((error as Error).message).toContain('AccessDeniedException');
    expect((error as Error).cause).toBe(denied);
  });

  it('sends nothing for no events', async () => {
    expect(await bus().publish([])).toEqual([]);
    expect(sentEntries()).toHaveLength(0);
  });
});
