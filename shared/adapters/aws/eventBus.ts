import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EventHooksError, PayloadTooLargeError } from '../../errors.ts';
import type { HookEvent } from '../../events/envelope.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type EventBus, type NewEvent, TENANT_RESOURCE_PREFIX } from '../../ports/eventBus.ts';
import {
  awsErrorName,
  BATCH_RETRY_DEFAULTS,
  backoffDelay,
  batchBy,
  type RetryOptions,
  retrySettings,
} from './backoff.ts';

/** EventBridge takes at most 10 entries per `PutEvents` call… */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** …whose sizes (as EventBridge counts them) add up to less than 256 KiB. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024 - 1;

/** Retries: 4 attempts per entry by default, the first included, then `publish` rejects. */
export interface AwsEventBusOptions extends RetryOptions {
  /** Name (or ARN) of the deployment's bus: `EVENT_BUS_NAME`. */
  busName: string;
  client?: EventBridgeClient;
  clock?: Clock;
}

/** Entry error codes that another attempt cannot fix. */
const PERMANENT_ERROR = /^(Malformed|Invalid|AccessDenied|NotAuthorized|Validation)/;

/**
 * The EventBus port on EventBridge: one `PutEvents` entry per event (see the mapping in
 * `ports/eventBus.ts`), batched by count and size, failed entries retried with backoff.
 * Ids come from EventBridge; `time` is the `Time` set on the entry, to the second as EventBridge keeps it.
 *
 * @example
 * const bus = createAwsEventBus({ busName: process.env.EVENT_BUS_NAME! });
 * const [accepted] = await bus.publish([{ tenant: 'default', source: 'crud', event: 'consumers', data: {} }]);
 */
export function createAwsEventBus(options: AwsEventBusOptions): EventBus {
  const client = options.client ?? new EventBridgeClient({});
  const clock = options.clock ?? systemClock;
  const { maxAttempts, sleep, backoff } = retrySettings(options, BATCH_RETRY_DEFAULTS);

  async function putEvents(entries: PutEventsRequestEntry[]) {
    try {
      return await client.send(new PutEventsCommand({ Entries: entries }));
    } catch (error) {
      throw new EventHooksError(`EventBridge PutEvents failed (${awsErrorName(error)})`, { cause: error });
    }
  }

  return {
    async publish(events: NewEvent[]): Promise<HookEvent[]> {
      if (events.length === 0) return [];
      const time = new Date(Math.floor(clock.now() / 1000) * 1000);
      const pending = events.map((event, index) => ({ index, entry: toPutEventsEntry(event, options.busName, time) }));
      for (const { index, entry } of pending) {
        const bytes = putEventsEntrySize(entry);
        if (bytes > PUT_EVENTS_MAX_BYTES) {
          throw new PayloadTooLargeError(`event ${index} is ${bytes} bytes; EventBridge accepts less than 256 KiB`);
        }
      }

      const ids: (string | undefined)[] = new Array(events.length);
      let failures: { index: number; entry: PutEventsRequestEntry; code: string; message: string }[] = [];
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const batch = failures.length > 0 ? failures : pending;
        failures = [];
        for (const chunk of batchBy(batch, PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_BYTES, (p) =>
          putEventsEntrySize(p.entry),
        )) {
          const response = await putEvents(chunk.map((p) => p.entry));
          chunk.forEach((item, position) => {
            const result = response.Entries?.[position];
            if (result?.EventId && !result.ErrorCode) ids[item.index] = result.EventId;
            else
              failures.push({
                ...item,
                code: result?.ErrorCode ?? 'MissingResult',
                message: result?.ErrorMessage ?? 'no result for this entry',
              });
          });
        }
        if (failures.length === 0) break;
        if (failures.some((f) => PERMANENT_ERROR.test(f.code)) || attempt === maxAttempts) {
          const detail = failures.map((f) => `event ${f.index}: ${f.code} (${f.message})`).join('; ');
          throw new EventHooksError(
            `EventBridge did not accept ${failures.length} of ${events.length} events after ${attempt} attempt(s): ${detail}`,
          );
        }
        await sleep(backoffDelay(attempt, backoff));
      }

      const isoTime = eventBridgeTime(time);
      return events.map((event, index) => ({ ...event, id: ids[index] as string, time: isoTime }));
    },
  };
}

/** The `PutEvents` entry for one event. */
export function toPutEventsEntry(event: NewEvent, busName: string, time: Date): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: event.source,
    DetailType: event.event,
    Detail: JSON.stringify(event.data),
    Resources: [`${TENANT_RESOURCE_PREFIX}${event.tenant}`],
    Time: time,
  };
}

/** Entry size the way EventBridge counts it: 14 bytes for `Time`, UTF-8 bytes of everything else. */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  const utf8 = (text: string | undefined) => (text ? Buffer.byteLength(text, 'utf8') : 0);
  let size = entry.Time ? 14 : 0;
  size += utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8(resource);
  return size;
}

/** `2024-05-01T12:00:00Z`: the format of an EventBridge event's `time`. */
export function eventBridgeTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
