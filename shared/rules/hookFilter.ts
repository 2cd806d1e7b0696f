import type { EventHook } from '../hooks/hook.ts';
import { compilePattern, type PatternMatcher } from './eventPattern.ts';

const matchAll: PatternMatcher = () => true;

/**
 * Each hook's compiled `filter`, built once per hook version: the hook cache hands out the same
 * object until the hook changes, and a changed hook is a new object (as in the delivery worker).
 *
 * @example
 * const filters = createFilterCache();
 * if (filters.matcherOf(hook)(event.data)) admit();
 */
export function createFilterCache(): { matcherOf(hook: EventHook): PatternMatcher } {
  const compiled = new WeakMap<EventHook, PatternMatcher>();
  return {
    matcherOf(hook) {
      let matcher = compiled.get(hook);
      if (!matcher) {
        // Stored filters were validated at create; a pattern that no longer compiles throws here
        // rather than fire on every event.
        matcher = hook.filter ? compilePattern(hook.filter) : matchAll;
        compiled.set(hook, matcher);
      }
      return matcher;
    },
  };
}
