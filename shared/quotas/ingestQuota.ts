import { PayloadTooLargeError, QuotaExceededError } from '../errors.ts';
import type { QuotaBook } from './quotaBook.ts';
import type { RateCounter } from './rateCounter.ts';

/** What `POST /events` asks before it accepts a tenant's request. */
export interface IngestQuota {
  /** Refuses a body over the tenant's `body_bytes` with `413`, before it is parsed. */
  admitBody(tenant: string, bytes: number): Promise<void>;
  /** Counts `count` events against the tenant's `events_per_second`; refuses with `429` past it. */
  admitEvents(tenant: string, count: number): Promise<void>;
}

/**
 * The ingest side of the quotas. A body over the quota answers `413`, as Kong's own
 * request-size-limiting plugin does, not `429`: sent again unchanged it can never pass.
 */
export function createIngestQuota(options: { quotas: QuotaBook; rate: RateCounter }): IngestQuota {
  return {
    async admitBody(tenant, bytes) {
      const limit = (await options.quotas.get(tenant)).body_bytes;
      if (limit !== null && bytes > limit) {
        throw new PayloadTooLargeError(`request body is larger than this tenant's quota of ${limit} bytes`);
      }
    },
    async admitEvents(tenant, count) {
      const limit = (await options.quotas.get(tenant)).events_per_second;
      if (limit === null || count === 0) return;
      if (await options.rate.take(tenant, count, limit)) return;
      const message =
        count > limit
          ? `API rate limit exceeded: ${count} events in one request, the quota is ${limit} events per second`
          : `API rate limit exceeded: at most ${limit} events per second`;
      throw new QuotaExceededError('events_per_second', message, { retryAfterSeconds: 1 });
    },
  };
}
