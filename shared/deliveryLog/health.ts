import type { DeliveryLog, DeliveryRecord } from './record.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Deliveries read at most for one health answer: one bounded query, whatever the hook's volume. */
export const HEALTH_READ_LIMIT = 1000;

export interface WindowHealth {
  /** Deliveries with an attempt in the window (pending ones excluded). */
  deliveries: number;
  delivered: number;
  failed: number;
  /** delivered / deliveries, `null` with no delivery. */
  success_rate: number | null;
  /** Over the attempts started in the window, `null` with none. */
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

export interface HookHealth {
  last_hour: WindowHealth;
  last_day: WindowHealth;
  /** Newest deliveries whose last attempt failed, back to the latest delivered one. */
  consecutive_failures: number;
  /** Epoch seconds of the newest attempt read, `null` with none. */
  last_attempt_at: number | null;
  /** Epoch seconds of the latest auto-disable (marked on the delivery that caused it), `null` with none. */
  auto_disabled_at: number | null;
  /** Set when the hook had more deliveries than were read: figures from the newest `HEALTH_READ_LIMIT`. */
  sampled: boolean;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function windowHealth(records: DeliveryRecord[], since: number): WindowHealth {
  let delivered = 0;
  let failed = 0;
  const latencies: number[] = [];
  for (const record of records) {
    const attempts = record.attempts.filter((a) => a.startedAt >= since);
    if (attempts.length === 0 || record.status === 'pending') continue;
    if (record.status === 'delivered') delivered++;
    else failed++;
    for (const a of attempts) latencies.push(a.latencyMs);
  }
  latencies.sort((a, b) => a - b);
  const deliveries = delivered + failed;
  return {
    deliveries,
    delivered,
    failed,
    success_rate: deliveries === 0 ? null : Math.round((delivered / deliveries) * 10_000) / 10_000,
    latency_p50_ms: percentile(latencies, 50),
    latency_p95_ms: percentile(latencies, 95),
  };
}

/** How many of the newest deliveries (newest first) failed in a row; pending ones are not yet known. */
export function consecutiveFailures(newestFirst: DeliveryRecord[]): number {
  let count = 0;
  for (const record of newestFirst) {
    if (record.status === 'pending') continue;
    if (record.status === 'delivered') break;
    count++;
  }
  return count;
}

/** A hook's health from its newest deliveries in the log (no second bookkeeping). */
export async function hookHealth(log: DeliveryLog, tenant: string, hookId: string, now: number): Promise<HookHealth> {
  const records = await log.recent(tenant, hookId, { since: 0, limit: HEALTH_READ_LIMIT });
  return {
    last_hour: windowHealth(records, now - HOUR_MS),
    last_day: windowHealth(records, now - DAY_MS),
    consecutive_failures: consecutiveFailures(records),
    last_attempt_at: lastAttemptAt(records),
    auto_disabled_at: autoDisabledAt(records),
    sampled: records.length === HEALTH_READ_LIMIT,
  };
}

function lastAttemptAt(records: DeliveryRecord[]): number | null {
  let last: number | undefined;
  for (const record of records) {
    const attempt = record.attempts.at(-1);
    if (attempt && (last === undefined || attempt.startedAt > last)) last = attempt.startedAt;
  }
  return last === undefined ? null : Math.floor(last / 1000);
}

function autoDisabledAt(records: DeliveryRecord[]): number | null {
  const marked = records.find((r) => r.hookDisabledAt !== undefined);
  return marked?.hookDisabledAt === undefined ? null : Math.floor(marked.hookDisabledAt / 1000);
}
