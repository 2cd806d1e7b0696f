import type { HookEvent } from './envelope.ts';

/**
 * What the dispatcher did with one event for one hook (`GET /events/{id}`, docs/operations.md):
 * - `queued`: a delivery job was sent (its `delivery_id` names it);
 * - `suppressed:snooze`, `suppressed:on_change`: the hook's gate held it back (docs/gate.md);
 * - `suppressed:threshold`: counted, but not the event that reached the hook's `threshold`;
 * - `filtered`: the event's data does not match the hook's `filter`;
 * - `disabled`: the hook is disabled (`enabled: false`);
 * - `failed_to_queue`: admitted, but the job could not be queued (the queue refused it: dead-lettered
 *   under `delivery_id` when it was too large, else the dispatch is retried and the record rewritten).
 */
export const EVENT_OUTCOMES = [
  'queued',
  'suppressed:snooze',
  'suppressed:on_change',
  'suppressed:threshold',
  'filtered',
  'disabled',
  'failed_to_queue',
] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export interface HookOutcome {
  hook_id: string;
  outcome: EventOutcome;
  /** The delivery's id when a job was made (`queued`, `failed_to_queue`), else `null`. */
  delivery_id: string | null;
}

/** Event data up to this size (as JSON) is always kept; larger data only when body capture is on. */
export const UNCAPTURED_DATA_BYTES = 1024;

/**
 * One event as received, with what became of it per matching hook: one item per event, written once
 * per dispatch (a retried dispatch rewrites it). An event that matched no hook has empty `hooks`.
 */
export interface EventRecord {
  /** The envelope; `data` is `null` when it was larger than 1 KB and body capture is off. */
  event: Omit<HookEvent, 'data'> & { data: Record<string, unknown> | null };
  /** The size of the event's data as JSON, so a reader knows what was left out. */
  data_bytes: number;
  hooks: HookOutcome[];
  /** When the dispatch that wrote the record finished, epoch ms. */
  dispatched_at: number;
  /** When the record expires, epoch seconds (DynamoDB TTL, and compared with now on every read). */
  expires_at: number;
}

/** Where event records are kept: the table on AWS, the local runtime's event log locally. */
export interface EventRecords {
  put(record: EventRecord): Promise<void>;
  /** The record, or `undefined` when there is none for this tenant or it has expired. */
  get(tenant: string, eventId: string): Promise<EventRecord | undefined>;
  /**
   * Removes a deleted tenant's records, where they are kept outside the table (the local event
   * log); in the table they go with the tenant's other items.
   */
  deleteTenant?(tenant: string): Promise<void>;
}

export interface RecordPolicy {
  /** Keep event data over 1 KB (`CAPTURE_BODIES`). */
  captureBodies: boolean;
  /** How long records are kept (`EVENT_RETENTION_DAYS`). */
  retentionDays: number;
}

/** The record of an event's dispatch, its data left out when too large to keep without capture. */
export function eventRecord(event: HookEvent, hooks: HookOutcome[], now: number, policy: RecordPolicy): EventRecord {
  const dataBytes = Buffer.byteLength(JSON.stringify(event.data), 'utf8');
  const keep = policy.captureBodies || dataBytes <= UNCAPTURED_DATA_BYTES;
  return {
    event: keep ? event : { ...event, data: null },
    data_bytes: dataBytes,
    hooks,
    dispatched_at: now,
    expires_at: Math.ceil(now / 1000) + policy.retentionDays * 86_400,
  };
}

/** Whether a record's retention has passed: TTL deletes late (or never, locally), so reads compare. */
export function isExpired(record: Pick<EventRecord, 'expires_at'>, now: number): boolean {
  return record.expires_at * 1000 <= now;
}
