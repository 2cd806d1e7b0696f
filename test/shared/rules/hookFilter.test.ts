import { describe, expect, it } from 'vitest';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { createFilterCache } from '../../../shared/rules/hookFilter.ts';

const hook = (filter: EventHook['filter']): EventHook =>
  ({ id: 'h1', source: 'crud', event: null, handler: 'log', filter, config: {} }) as unknown as EventHook;

describe('createFilterCache', () => {
  it('compiles a hook object once and a changed hook (a new object) again', () => {
    const filters = createFilterCache(memoryLogger());
    const first = hook({ a: ['x'] });
    const changed = { ...first, filter: { a: ['y'] } } as EventHook;

    const matcher = filters.matcherOf(first);

    expect(filters.matcherOf(first)).toBe(matcher);
    expect(matcher({ a: 'x' })).toBe(true);
    expect(filters.matcherOf(changed)).not.toBe(matcher);
    expect(filters.matcherOf(changed)({ a: 'x' })).toBe(false);
  });

  it('matches every event for a hook without a filter', () => {
    const filters = createFilterCache(memoryLogger());
    expect(filters.matcherOf(hook(null))({ anything: 1 })).toBe(true);
    expect(filters.matcherOf(hook(undefined))({})).toBe(true);
  });

  it('makes a stored filter that no longer compiles match nothing, and says so once', () => {
    const logger = memoryLogger();
    const filters = createFilterCache(logger);
    const broken = hook({ a: [{ contains: 'x' }] });

    const results = [filters.matcherOf(broken)({ a: 'x' }), filters.matcherOf(broken)({ a: 'x' })];

    expect(results).toEqual([false, false]);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({ hook_id: 'h1', error: "a[0]: unknown operator 'contains'" }),
    ]);
  });
});
