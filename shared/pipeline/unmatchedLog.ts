import type { HookEvent } from '../events/envelope.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';

/** How often, at most, one `(tenant, source, event)` is logged at `info` as matching no hook. */
export const UNMATCHED_INFO_INTERVAL_MS = 60_000;
/** Names remembered at once: past this, new names are logged at `debug` only until old ones age out. */
const MAX_NAMES = 1_000;

/**
 * Logs events that matched no hook, bounded: every one at `debug`, and at `info` the first of each
 * `(tenant, source, event)` per minute, saying how many more of that name went by since the last
 * `info` line (`unlogged`). A producer sending 5,000 events a second of a name nobody hooks costs one
 * `info` line a minute, and "did my event arrive, and why did nothing fire?" still has an answer.
 */
export function createUnmatchedLog(logger: Logger, clock: Clock): { note(event: HookEvent): void } {
  const names = new Map<string, { loggedAt: number; unlogged: number }>();
  return {
    note(event) {
      const fields = { tenant: event.tenant, event_id: event.id, source: event.source, event: event.event };
      const now = clock.now();
      const key = `${event.tenant}\n${event.source}\n${event.event}`;
      const known = names.get(key);
      if (known && now - known.loggedAt < UNMATCHED_INFO_INTERVAL_MS) {
        known.unlogged++;
        logger.debug('event matched no hook', fields);
        return;
      }
      if (!known && names.size >= MAX_NAMES) {
        for (const [name, entry] of names) {
          if (now - entry.loggedAt >= UNMATCHED_INFO_INTERVAL_MS) names.delete(name);
        }
        if (names.size >= MAX_NAMES) {
          logger.debug('event matched no hook', fields);
          return;
        }
      }
      logger.info('event matched no hook', { ...fields, unlogged: known?.unlogged ?? 0 });
      names.set(key, { loggedAt: now, unlogged: 0 });
    },
  };
}
