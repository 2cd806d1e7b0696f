import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createAwsDeliveryQueue,
  parseDeliveryMessage,
  type QueuedDeliveryJob,
  remainingDelayMs,
} from '../../../../shared/adapters/aws/deliveryQueue.ts';
import { BadRequestError, EventHooksError } from '../../../../shared/errors.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import { type DeliveryJob, JobsTooLargeError } from '../../../../shared/ports/deliveryQueue.ts';

const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const sqs = mockClient(client);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/delivery';
const NOW = 1_700_000_000_000;

function job(n: number): DeliveryJob {
  return {
    type: 'deliver.v1',
    deliveryId: `d-${n}`,
    tenant: 'default',
    hookId: 'h-1',
    event: {
      id: `e-${n}`,
      time: '2025-01-01T00:00:00Z',
      tenant: 'default',
      source: 'crud',
      event: 'consumers',
      data: { n },
    },
    attempt: 1,
    firstQueuedAt: NOW,
  };
}

/** Answers each SendMessageBatch, failing the entries `fail` picks. */
function answerWith(
  fail: (entry: SendMessageBatchRequestEntry, call: number) => { code: string; sender?: boolean } | undefined = () =>
    undefined,
) {
  let call = 0;
  sqs.on(SendMessageBatchCommand).callsFake(async (input: { Entries: SendMessageBatchRequestEntry[] }) => {
    call++;
    const successful = [];
    const failed = [];
    for (const entry of input.Entries) {
      const failure = fail(entry, call);
      if (failure) failed.push({ Id: entry.Id, Code: failure.code, SenderFault: failure.sender ?? false });
      else successful.push({ Id: entry.Id, MessageId: `msg-${entry.Id}`, MD5OfMessageBody: 'x' });
    }
    return { Successful: successful, Failed: failed };
  });
}

function batches(): SendMessageBatchRequestEntry[][] {
  return sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);
}
const bodies = (entries: SendMessageBatchRequestEntry[]) =>
  entries.map((e) => JSON.parse(e.MessageBody ?? '') as QueuedDeliveryJob);

describe('createAwsDeliveryQueue', () => {
  const sleeps: number[] = [];
  const clock = new ManualClock(NOW);
  const queue = () =>
    createAwsDeliveryQueue({
      queueUrl: QUEUE,
      client,
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

  beforeEach(() => {
    sqs.reset();
    sleeps.length = 0;
  });

  it('sends jobs as typed JSON messages to the delivery queue, 10 per batch', async () => {
    // Prepare
    answerWith();
    const jobs = Array.from({ length: 12 }, (_, n) => job(n));

    // Act
    await queue().send(jobs);

    // Assess
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((c) => c.args[0].input.QueueUrl)).toEqual([QUEUE, QUEUE]);
    expect(batches().map((b) => b.length)).toEqual([10, 2]);
    const first = batches()[0]![0]!;
    expect(first).toEqual({
      Id: 'm0',
      MessageBody: JSON.stringify(jobs[0]),
      MessageGroupId: 'default/h-1',
      MessageAttributes: { type: { DataType: 'String', StringValue: 'deliver.v1' } },
    });
    expect(bodies(batches().flat())).toEqual(jobs);
  });

  it('groups messages by hook, so SQS fair queues keep one slow hook from delaying the others', async () => {
    answerWith();
    const other = { ...job(2), hookId: 'h-2' };
    await queue().send([job(1), other, { ...job(3), tenant: 't'.repeat(100), hookId: 'x'.repeat(40) }]);
    const groups = batches()[0]!.map((e) => e.MessageGroupId);
    expect(groups.slice(0, 2)).toEqual(['default/h-1', 'default/h-2']);
    // A group id is at most 128 characters: a longer tenant/hook pair is hashed, still one group per hook.
    expect(groups[2]!.length).toBeLessThanOrEqual(128);
    expect(groups[2]).not.toBe(groups[0]);
  });

  it('sends the jobs that fit and sets aside, on their own, those larger than an SQS message (1 MiB)', async () => {
    // Prepare: a job just under 1 MiB goes; one over it does not
    answerWith();
    const fits = { ...job(1), event: { ...job(1).event, data: { blob: 'a'.repeat(1_000_000) } } };
    const huge = { ...job(2), event: { ...job(2).event, data: { blob: 'a'.repeat(1_100_000) } } };

    // Act
    const sent = queue().send([fits, huge, job(3)]);

    // Assess
    const error = await sent.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobsTooLargeError);
    expect((error as JobsTooLargeError).jobs.map((j) => j.job.deliveryId)).toEqual(['d-2']);
    expect((error as JobsTooLargeError).reasonFor((error as JobsTooLargeError).jobs[0]!.bytes)).toMatch(
      /delivery job is 1100\d{3} bytes; the delivery queue takes at most 1048576/,
    );
    expect(bodies(batches().flat()).map((j) => j.deliveryId)).toEqual(['d-1', 'd-3']);
  });

  it('rounds a delay up to whole seconds', async () => {
    // Prepare
    answerWith();

    // Act
    await queue().send([job(1)], { delayMs: 1500 });

    // Assess
    expect(batches()[0]![0]!.DelaySeconds).toBe(2);
    expect(bodies(batches()[0]!)[0]!.notBefore).toBeUndefined();
  });

  it('caps the delay at 900 s and makes a longer one carry notBefore', async () => {
    // Prepare
    answerWith();
    const oneHour = 3_600_000;

    // Act
    await queue().send([job(1)], { delayMs: oneHour });

    // Assess
    const [entry] = batches()[0]!;
    expect(entry!.DelaySeconds).toBe(900);
    const sent = bodies([entry!])[0]!;
    expect(sent.notBefore).toBe(NOW + oneHour);
    // the consumer sees 45 minutes left after the first 15 and re-sends with that delay
    expect(remainingDelayMs(sent, NOW + 900_000)).toBe(oneHour - 900_000);
    expect(remainingDelayMs(sent, NOW + oneHour)).toBe(0);
  });

  it('drops a stale notBefore when a job is re-sent with a delay SQS can hold', async () => {
    // Prepare
    answerWith();
    const deferred: QueuedDeliveryJob = { ...job(1), notBefore: NOW + 600_000 };

    // Act
    await queue().send([deferred], { delayMs: 600_000 });

    // Assess
    const [entry] = batches()[0]!;
    expect(entry!.DelaySeconds).toBe(600);
    expect(bodies([entry!])[0]!).toEqual(job(1));
  });

  it('retries only the entries SQS failed on its side', async () => {
    // Prepare
    answerWith((entry, call) => (call === 1 && entry.Id === 'm1' ? { code: 'InternalError' } : undefined));

    // Act
    await queue().send([job(0), job(1), job(2)]);

    // Assess
    expect(batches().map((b) => b.map((e) => e.Id))).toEqual([['m0', 'm1', 'm2'], ['m1']]);
    expect(sleeps).toHaveLength(1);
  });

  it('rejects without retrying when SQS blames the sender', async () => {
    // Prepare
    answerWith((entry) => (entry.Id === 'm0' ? { code: 'InvalidParameterValue', sender: true } : undefined));

    // Act
    const sending = queue().send([job(0), job(1)]);

    // Assess
    await expect(sending).rejects.toThrow(
      /did not accept 1 of 2 delivery jobs after 1 attempt\(s\): m0: InvalidParameterValue \(sender fault\)/,
    );
    expect(batches()).toHaveLength(1);
  });

  it('rejects after the last attempt when an entry keeps failing', async () => {
    // Prepare
    answerWith(() => ({ code: 'ServiceUnavailable' }));

    // Act
    const sending = queue().send([job(0)]);

    // Assess
    await expect(sending).rejects.toBeInstanceOf(EventHooksError);
    expect(batches()).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
  });
});

describe('parseDeliveryMessage', () => {
  it('reads a deliver.v1 job and refuses anything else', () => {
    expect(parseDeliveryMessage(JSON.stringify(job(1)))).toEqual(job(1));
    expect(() => parseDeliveryMessage('{not json')).toThrow(BadRequestError);
    expect(() => parseDeliveryMessage('{"type":"deliver.v0"}')).toThrow(BadRequestError);
  });
});
