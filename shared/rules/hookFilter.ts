import type { EventHook } from '../hooks/hook.ts';
import type { Logger } from '../logger.ts';
import { compilePattern, InvalidPatternError, type PatternMatcher } from './eventPattern.ts';

const matchAll: PatternMatcher = () => true;
const matchNone: PatternMatcher = () => false;

/**
 * Each hook's compiled `filter`, built once per hook version: the hook cache hands out the same
 * object until the hook changes, and a changed hook is a new object (as in the delivery worker).
 *
 * @example
 * const filters = createFilterCache(logger);
 * if (filters.matcherOf(hook)(event.data)) admit();
 */
export function createFilterCache(logger: Logger): { matcherOf(hook: EventHook): PatternMatcher } {
  const compiled = new WeakMap<EventHook, PatternMatcher>();
  const compile = (hook: EventHook): PatternMatcher => {
    if (!hook.filter) return matchAll;
    try {
      return compilePattern(hook.filter);
    } catch (error) {
      if (!(error instanceof InvalidPatternError)) throw error;
      // Stored filters were checked at write; one that no longer compiles (a tightened limit) must
      // neither fire on every event nor hold up the event's other hooks.
      logger.error('hook filter does not compile; the hook matches nothing', {
        hook_id: hook.id,
        error: error.message,
      });
      return matchNone;
    }
  };
  return {
    matcherOf(hook) {
      let matcher = compiled.get(hook);
      if (!matcher) {
        matcher = compile(hook);
        compiled.set(hook, matcher);
      }
      return matcher;
    },
  };
}
