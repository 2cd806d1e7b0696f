import { NotFoundError } from '../errors.ts';
import type { EventRecord, EventRecords } from '../events/eventRecord.ts';
import { isUuid } from '../hooks/validate.ts';
import { type ApiResponse, json } from './http.ts';

/**
 * An event as the Admin API shows it (beyond Kong, in its naming style): the event as received and
 * what became of it per matching hook. `data` is `null` when it was over 1 KB and body capture was
 * off; `data_bytes` tells its size either way.
 */
export function eventView(record: EventRecord) {
  const { event } = record;
  return {
    id: event.id,
    time: event.time,
    source: event.source,
    event: event.event,
    data: event.data,
    data_bytes: record.data_bytes,
    dispatched_at: Math.floor(record.dispatched_at / 1000),
    hooks: record.hooks,
  };
}

/** `GET /events/{id}`: 404 for an id unknown to this tenant, expired, or not dispatched yet. */
export async function eventRoutes(events: EventRecords, tenant: string, id: string): Promise<ApiResponse> {
  // Event ids are lower-case UUIDs (ours and EventBridge's); an upper-case spelling names the same event.
  const record = await events.get(tenant, isUuid(id) ? id.toLowerCase() : id);
  if (!record) throw new NotFoundError();
  return json(200, eventView(record));
}
