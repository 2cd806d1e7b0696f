/** The event envelope that travels from ingest through the bus to the dispatcher and the delivery queue. */
export interface HookEvent {
  /** Assigned on ingest (UUID). */
  id: string;
  /** Assigned on ingest, ISO-8601. */
  time: string;
  tenant: string;
  source: string;
  event: string;
  data: Record<string, unknown>;
}

/**
 * A producer's own id of an event (`id` in `POST /events`), unique per tenant and source: an event
 * posted again with the same source and id within the retention is not published again.
 */
export const PRODUCER_EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** An `Idempotency-Key` header: 1 to 255 visible ASCII characters (a UUID is typical). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
