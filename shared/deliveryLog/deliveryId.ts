import { createHash } from 'node:crypto';
import type { HookEvent } from '../events/envelope.ts';

/**
 * Delivery ids (docs/delivery.md § Delivery ids). An id is derived, not random, so a dispatch that
 * EventBridge retries (or delivers twice) yields the same id and receivers can de-duplicate on it.
 *
 * It names where its record is: `<hook id>_<event time, ms, base 36>_<16 hex of SHA-256(event id, hook id)>`,
 * e.g. `4b1e0c6a-…-9d2f_0mx1s4vvd_5f0c9a1b2e3d4c5b`. The delivery log keeps a record in its hook's
 * partition under `<event time>#<id>`, so `GET /deliveries/{id}` is one read, with no lookup item
 * written per delivery (docs/deploy.md § Per million events). The tenant is not in the id: it
 * comes from the caller's key, so another tenant's id finds nothing.
 *
 * Ids minted before this shape were name-based UUIDs; their records keep a lookup item and stay
 * readable for their retention (`legacyDeliveryId`, `parseDeliveryId` → undefined).
 */

/** Hook ids as the Admin API keeps them: lower-case UUIDs. */
const HOOK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHAPE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([0-9a-z]{9})_([0-9a-f]{16})$/;
/** Nine base-36 digits hold every ms up to the year 5188. */
const TIME_DIGITS = 9;
/** The log sorts by the time in 13 decimal digits (up to the year 2286); a `Time` past it keeps the old shape. */
const MAX_TIME = 9_999_999_999_999;

const digest = (eventId: string, hookId: string) => createHash('sha256').update(`${eventId}\n${hookId}`).digest('hex');

/** The id of one event's delivery to one hook. */
export function deliveryIdFor(event: Pick<HookEvent, 'id' | 'time'>, hookId: string): string {
  return deliveryIdsFor(event)(hookId);
}

/**
 * The ids of one event's deliveries, by hook: the event's part (its time, parsed and in base 36)
 * is worked out once for all the hooks it fans out to, not once per hook.
 */
export function deliveryIdsFor(event: Pick<HookEvent, 'id' | 'time'>): (hookId: string) => string {
  const time = Date.parse(event.time);
  // An event without a time (or past MAX_TIME), or a hook id that is no UUID (the hook schema makes
  // them UUIDs), keeps the old shape, which the log still resolves through its lookup item.
  const stamp = time >= 0 && time <= MAX_TIME ? Math.floor(time).toString(36).padStart(TIME_DIGITS, '0') : undefined;
  return (hookId) =>
    stamp === undefined || !HOOK_ID.test(hookId)
      ? legacyDeliveryId(event.id, hookId)
      : `${hookId}_${stamp}_${digest(event.id, hookId).slice(0, 16)}`;
}

/** The id before it named its hook: a name-based UUID (version 5 layout, variant 10xx). */
export function legacyDeliveryId(eventId: string, hookId: string): string {
  const hex = digest(eventId, hookId);
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Where an id's record is: its hook and the event's time (epoch ms); undefined for an old-shape id. */
export function parseDeliveryId(id: string): { hookId: string; time: number } | undefined {
  const match = SHAPE.exec(id);
  if (!match) return undefined;
  return { hookId: match[1] as string, time: Number.parseInt(match[2] as string, 36) };
}
