import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { BadRequestError, EventHooksError } from '../../errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type DeliveryJob, type DeliveryQueue, JobsTooLargeError } from '../../ports/deliveryQueue.ts';
import {
  awsErrorName,
  BATCH_RETRY_DEFAULTS,
  backoffDelay,
  batchBy,
  type RetryOptions,
  retrySettings,
} from './backoff.ts';

/** SQS takes at most 10 messages per `SendMessageBatch`… */
export const SEND_BATCH_MAX_ENTRIES = 10;
/**
 * …and 1 MiB per batch and per message (SQS's limit since 2025; the stack raises the queue's own
 * `MaximumMessageSize` to match, since it defaults to 256 KiB). An event reaches the dispatcher
 * through EventBridge (under 256 KB), so a job only outgrows this through a bug or a direct send.
 */
export const SEND_BATCH_MAX_BYTES = 1024 * 1024;
/** The longest `DelaySeconds` SQS allows: 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

/**
 * A job as it travels on SQS. A delay longer than SQS allows is split: the message waits the
 * 900 s maximum and carries `notBefore`; the consumer re-sends it until then (see `remainingDelayMs`).
 */
export type QueuedDeliveryJob = DeliveryJob & {
  /** Epoch ms before which the job must not be attempted. */
  notBefore?: number;
};

/** Retries: 4 attempts per message by default, the first included, then `send` rejects. */
export interface AwsDeliveryQueueOptions extends RetryOptions {
  /** `DELIVERY_QUEUE_URL`. */
  queueUrl: string;
  client?: SQSClient;
  clock?: Clock;
}

/** Message attribute naming the body's shape (`deliver.v1`), readable without parsing the body. */
export const MESSAGE_TYPE_ATTRIBUTE = 'type';

/**
 * The SQS fair-queue tenant of a job: its hook. A standard queue that sees a `MessageGroupId`
 * gives messages of quiet groups priority over a group that holds a disproportionate share of the
 * consumers (many in flight, or slow to process), so one hook whose endpoint hangs does not raise
 * the dwell time of every other hook. At most 128 characters.
 */
export function messageGroupIdOf(job: DeliveryJob): string {
  const id = `${job.tenant}/${job.hookId}`;
  return id.length <= 128 ? id : createHash('sha256').update(id).digest('base64url');
}

/**
 * The DeliveryQueue port on SQS: `SendMessageBatch` in chunks of 10 with
 * `DelaySeconds = min(900, ceil(delayMs / 1000))`, failed entries retried with backoff. Final
 * failures are not sent here: they are stored as dead letters in the table (`DeadLetterStore`); the
 * queue's own dead-letter queue only receives what SQS redrives after `maxReceiveCount`.
 *
 * @example
 * const queue = createAwsDeliveryQueue({ queueUrl: env.DELIVERY_QUEUE_URL });
 * await queue.send([job], { delayMs: 30_000 });
 */
export function createAwsDeliveryQueue(options: AwsDeliveryQueueOptions): DeliveryQueue {
  const client = options.client ?? new SQSClient({});
  const clock = options.clock ?? systemClock;
  const { maxAttempts, sleep, backoff } = retrySettings(options, BATCH_RETRY_DEFAULTS);

  async function sendBatch(entries: SendMessageBatchRequestEntry[]) {
    try {
      return await client.send(new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: entries }));
    } catch (error) {
      throw new EventHooksError(`SQS SendMessageBatch failed (${awsErrorName(error)})`, { cause: error });
    }
  }

  return {
    async send(jobs: DeliveryJob[], sendOptions: { delayMs?: number } = {}): Promise<void> {
      if (jobs.length === 0) return;
      const delayMs = Math.max(0, sendOptions.delayMs ?? 0);
      const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
      const notBefore = delayMs > MAX_DELAY_SECONDS * 1000 ? clock.now() + delayMs : undefined;

      // A job too large for SQS is set aside on its own; the others are still sent.
      const tooLarge: { job: DeliveryJob; bytes: number }[] = [];
      const pending = jobs.flatMap((job, index): SendMessageBatchRequestEntry[] => {
        const { notBefore: _stale, ...plain } = job as QueuedDeliveryJob;
        const body = JSON.stringify(notBefore === undefined ? plain : { ...plain, notBefore });
        const bytes = Buffer.byteLength(body);
        if (bytes > SEND_BATCH_MAX_BYTES) {
          tooLarge.push({ job, bytes });
          return [];
        }
        return [
          {
            Id: `m${index}`,
            MessageBody: body,
            MessageGroupId: messageGroupIdOf(job),
            ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
            MessageAttributes: { [MESSAGE_TYPE_ATTRIBUTE]: { DataType: 'String', StringValue: job.type } },
          },
        ];
      });
      await sendAll(pending);
      if (tooLarge.length > 0) throw new JobsTooLargeError(tooLarge, SEND_BATCH_MAX_BYTES);
    },
  };

  async function sendAll(entries: SendMessageBatchRequestEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let pending = entries;

    for (let attempt = 1; ; attempt++) {
      const failed: { entry: SendMessageBatchRequestEntry; code: string; senderFault: boolean }[] = [];
      for (const chunk of batchBy(pending, SEND_BATCH_MAX_ENTRIES, SEND_BATCH_MAX_BYTES, (e) =>
        Buffer.byteLength(e.MessageBody ?? ''),
      )) {
        const response = await sendBatch(chunk);
        const succeeded = new Set((response.Successful ?? []).map((s) => s.Id));
        const failures = new Map((response.Failed ?? []).map((f) => [f.Id, f]));
        for (const entry of chunk) {
          if (succeeded.has(entry.Id)) continue;
          const failure = failures.get(entry.Id);
          failed.push({ entry, code: failure?.Code ?? 'MissingResult', senderFault: failure?.SenderFault ?? false });
        }
      }
      if (failed.length === 0) return;
      if (failed.some((f) => f.senderFault) || attempt >= maxAttempts) {
        const detail = failed
          .map((f) => `${f.entry.Id}: ${f.code}${f.senderFault ? ' (sender fault)' : ''}`)
          .join('; ');
        throw new EventHooksError(
          `SQS did not accept ${failed.length} of ${entries.length} delivery jobs after ${attempt} attempt(s): ${detail}`,
        );
      }
      pending = failed.map((f) => f.entry);
      await sleep(backoffDelay(attempt, backoff));
    }
  }
}

/**
 * Reads a delivery queue message body.
 *
 * @throws BadRequestError when the body is not a `deliver.v1` job (the consumer should dead-letter it).
 */
export function parseDeliveryMessage(body: string): QueuedDeliveryJob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new BadRequestError('delivery message is not JSON', { cause: error });
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as { type?: unknown }).type !== 'deliver.v1') {
    throw new BadRequestError('delivery message is not a deliver.v1 job');
  }
  return parsed as QueuedDeliveryJob;
}

/**
 * How long a received job must still wait: 0 when it is due. The delivery function, for a job
 * with time remaining, re-sends it with `send([job], { delayMs: remaining })` (which keeps
 * `notBefore` while more than 900 s remain) and reports the original message as processed.
 *
 * @example if (remainingDelayMs(job, clock.now()) > 0) { await queue.send([job], { delayMs: remainingDelayMs(job, clock.now()) }); }
 */
export function remainingDelayMs(job: QueuedDeliveryJob, now: number): number {
  return job.notBefore === undefined ? 0 : Math.max(0, job.notBefore - now);
}
