import type { HookEvent } from '../events/envelope.ts';
import { redact } from '../logger.ts';
import type { DeliveryJob } from '../ports/deliveryQueue.ts';

/**
 * The delivery log's model (issue 12 §1): one record per delivery (its id is the job's delivery id),
 * holding its last attempts, rewritten after each attempt. Both backends (the local journal file and
 * the DynamoDB table) store exactly this record, so every rule about what is kept lives here.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'retrying' | 'dead';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'retrying', 'dead'];

export interface DeliveryAttempt {
  attempt: number;
  /** Epoch ms. */
  startedAt: number;
  latencyMs: number;
  statusCode?: number;
  error?: string;
  /** Redacted, and absent when body capture is off. */
  responseHeaders?: Record<string, string>;
  /** At most `MAX_BODY_BYTES`, and absent when body capture is off. */
  responseBody?: string;
}

export interface DeliveryRecord {
  id: string;
  tenant: string;
  hookId: string;
  eventId: string;
  status: DeliveryStatus;
  /** Attempts made in all (the array keeps only the last `MAX_ATTEMPTS`). */
  attemptCount: number;
  attempts: DeliveryAttempt[];
  lastStatusCode?: number;
  lastError?: string;
  /** Epoch ms: the first attempt (or replay) that created the record. */
  createdAt: number;
  updatedAt: number;
  /** Epoch ms; compared with now on every read, whatever deletes expired records. */
  expiresAt: number;
  /**
   * The event, for a replay: kept when its data is at most `SMALL_EVENT_BYTES` as JSON, or when body
   * capture is on (the cost rule of issue 12: big bodies only by choice).
   */
  event?: HookEvent;
  /**
   * Epoch ms, set on the delivery whose failure got its hook auto-disabled: failures up to it are
   * spent, so a hook enabled again starts counting afresh, and health reads `disabled_since` here.
   */
  hookDisabledAt?: number;
}

/** Attempts kept per delivery: a delivery retried for days keeps its latest ones. */
export const MAX_ATTEMPTS = 20;
/** Response bodies are cut at this many bytes (UTF-8). */
export const MAX_BODY_BYTES = 4096;
const MAX_HEADERS = 50;
const MAX_HEADER_VALUE = 512;
const MAX_ERROR = 1024;
/** Events whose data is at most this as JSON are kept even without body capture. */
export const SMALL_EVENT_BYTES = 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DeliveryLogSettings {
  /** Response bodies and headers, and events over 1 KB, are kept (CAPTURE_BODIES, default on). */
  captureBodies: boolean;
  /** Days a record is kept after its last write (DELIVERY_LOG_RETENTION_DAYS, default 7). */
  retentionDays: number;
}

export const DEFAULT_DELIVERY_LOG_SETTINGS: DeliveryLogSettings = { captureBodies: true, retentionDays: 7 };

/** What the worker saw of the receiver: its answer (delivered or not), or none. */
export interface AttemptOutcome {
  job: DeliveryJob;
  status: Exclude<DeliveryStatus, 'pending'>;
  startedAt: number;
  endedAt: number;
  statusCode?: number | undefined;
  error?: string | undefined;
  response?: { headers?: unknown; body?: unknown } | undefined;
}

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function capUtf8(text: string, max: number): string {
  if (text.length <= max / 4) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function capturedHeaders(headers: unknown): Record<string, string> | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  // The project's one redaction rule (the logs'): set-cookie, authorization, *token*, *secret*…
  const redacted = redact(headers) as Record<string, unknown>;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [name, value] of Object.entries(redacted)) {
    if (n++ >= MAX_HEADERS) break;
    Object.defineProperty(out, name, {
      value: capUtf8(String(value), MAX_HEADER_VALUE),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function capturedBody(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? undefined : capUtf8(text, MAX_BODY_BYTES);
}

/** The attempt as it is kept: capped, redacted, bodies only with capture on. */
export function attemptOf(outcome: AttemptOutcome, settings: DeliveryLogSettings): DeliveryAttempt {
  const attempt: DeliveryAttempt = {
    attempt: outcome.job.attempt,
    startedAt: outcome.startedAt,
    latencyMs: Math.max(0, outcome.endedAt - outcome.startedAt),
  };
  if (outcome.statusCode !== undefined) attempt.statusCode = outcome.statusCode;
  if (outcome.error !== undefined) attempt.error = capUtf8(outcome.error, MAX_ERROR);
  if (settings.captureBodies && outcome.response) {
    const headers = capturedHeaders(outcome.response.headers);
    if (headers) attempt.responseHeaders = headers;
    const body = capturedBody(outcome.response.body);
    if (body !== undefined) attempt.responseBody = body;
  }
  return attempt;
}

function keptEvent(event: HookEvent, settings: DeliveryLogSettings): HookEvent | undefined {
  if (settings.captureBodies) return event;
  return Buffer.byteLength(JSON.stringify(event.data)) <= SMALL_EVENT_BYTES ? event : undefined;
}

/** The record after one more attempt: `previous` is what was kept before (none for a new delivery). */
export function withAttempt(
  previous: DeliveryRecord | undefined,
  outcome: AttemptOutcome,
  settings: DeliveryLogSettings,
): DeliveryRecord {
  const { job } = outcome;
  const attempt = attemptOf(outcome, settings);
  const attempts = [...(previous?.attempts ?? []), attempt].slice(-MAX_ATTEMPTS);
  const record: DeliveryRecord = {
    id: job.deliveryId,
    tenant: job.tenant,
    hookId: job.hookId,
    eventId: job.event.id,
    status: outcome.status,
    attemptCount: (previous?.attemptCount ?? 0) + 1,
    attempts,
    createdAt: previous?.createdAt ?? outcome.startedAt,
    updatedAt: outcome.endedAt,
    expiresAt: outcome.endedAt + settings.retentionDays * DAY_MS,
  };
  if (attempt.statusCode !== undefined) record.lastStatusCode = attempt.statusCode;
  if (attempt.error !== undefined) record.lastError = attempt.error;
  if (previous?.hookDisabledAt !== undefined) record.hookDisabledAt = previous.hookDisabledAt;
  const event = previous?.event ?? keptEvent(job.event, settings);
  if (event) record.event = event;
  return record;
}

/** The record of a replayed delivery: pending, its history kept, due for a fresh first attempt. */
export function replayed(record: DeliveryRecord, now: number, settings: DeliveryLogSettings): DeliveryRecord {
  return { ...record, status: 'pending', updatedAt: now, expiresAt: now + settings.retentionDays * DAY_MS };
}

/** Whether the record's last attempt failed (a delivery still retrying or dead). */
export const failed = (record: DeliveryRecord) => record.status === 'retrying' || record.status === 'dead';

export interface DeliveryQuery {
  status?: DeliveryStatus;
  /** Epoch ms: records created at or after. */
  since?: number;
  size: number;
  offset?: string;
}

export interface DeliveryPage {
  records: DeliveryRecord[];
  next?: string;
}

/** Where the delivery worker writes and the Admin API reads (a journal file locally, the table on AWS). */
export interface DeliveryLog {
  /** Records an attempt's outcome; resolves once it is written (locally: handed to the OS). */
  record(outcome: AttemptOutcome): Promise<DeliveryRecord>;
  /** Writes a record as given (the auto-disable mark). */
  save(record: DeliveryRecord): Promise<void>;
  /**
   * Marks a delivery pending again for a replay, as one compare-and-set: only if its record is still
   * as last written (and, with `expected`, still has the status and time the caller read), so two
   * replays racing on one delivery mark it once. `undefined` when unknown, or when it changed meanwhile.
   */
  replay(
    tenant: string,
    id: string,
    expected?: Pick<DeliveryRecord, 'status' | 'updatedAt'>,
  ): Promise<DeliveryRecord | undefined>;
  get(tenant: string, id: string): Promise<DeliveryRecord | undefined>;
  /** A hook's deliveries, newest first (by creation). */
  list(tenant: string, hookId: string, query: DeliveryQuery): Promise<DeliveryPage>;
  /** At most `limit` of a hook's newest deliveries created at or after `since`: the bounded read of health. */
  recent(tenant: string, hookId: string, options: { since: number; limit: number }): Promise<DeliveryRecord[]>;
  /**
   * Removes a deleted tenant's records, where they are kept outside the table (the local runtime's
   * `deliveries.log`); in the table they go with the tenant's other items.
   */
  deleteTenant?(tenant: string): Promise<void>;
}

const toSeconds = (ms: number) => Math.floor(ms / 1000);

function attemptView(attempt: DeliveryAttempt) {
  return {
    attempt: attempt.attempt,
    started_at: toSeconds(attempt.startedAt),
    latency_ms: attempt.latencyMs,
    status_code: attempt.statusCode ?? null,
    error: attempt.error ?? null,
    response_headers: attempt.responseHeaders ?? null,
    response_body: attempt.responseBody ?? null,
  };
}

/** A delivery as `GET /event-hooks/{id}/deliveries` lists it. */
export function deliverySummary(record: DeliveryRecord) {
  return {
    id: record.id,
    event_id: record.eventId,
    hook_id: record.hookId,
    status: record.status,
    attempts: record.attemptCount,
    last_status_code: record.lastStatusCode ?? null,
    last_error: record.lastError ?? null,
    created_at: toSeconds(record.createdAt),
    updated_at: toSeconds(record.updatedAt),
  };
}

/** A delivery as `GET /deliveries/{id}` shows it: the summary, with the attempts kept. */
export function deliveryView(record: DeliveryRecord) {
  return {
    ...deliverySummary(record),
    attempts: record.attempts.map(attemptView),
    attempt_count: record.attemptCount,
    replayable: record.event !== undefined,
  };
}
