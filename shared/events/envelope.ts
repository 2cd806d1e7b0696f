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
