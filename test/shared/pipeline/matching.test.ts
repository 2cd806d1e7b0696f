import { describe, expect, it } from 'vitest';
import { eventForms, formSources, matchHook } from '../../../shared/pipeline/matching.ts';

describe('eventForms', () => {
  it('fans an entity change sent as crud/<entity> out to the three forms Kong emits', () => {
    expect(eventForms('crud', 'consumers', { operation: 'create' })).toEqual([
      { source: 'crud', event: 'consumers' },
      { source: 'crud', event: 'consumers:create' },
      { source: 'dao:crud', event: 'create' },
    ]);
  });

  it('takes the operation from the event name when the change is sent as crud/<entity>:<operation>', () => {
    expect(eventForms('crud', 'routes:delete', {})).toEqual([
      { source: 'crud', event: 'routes' },
      { source: 'crud', event: 'routes:delete' },
      { source: 'dao:crud', event: 'delete' },
    ]);
  });

  it('keeps a crud event without a known operation as it is', () => {
    expect(eventForms('crud', 'consumers', { operation: 'explode' })).toEqual([{ source: 'crud', event: 'consumers' }]);
  });

  it('leaves other sources alone', () => {
    expect(eventForms('balancer', 'health', { operation: 'create' })).toEqual([
      { source: 'balancer', event: 'health' },
    ]);
  });

  it('lists each source once', () => {
    expect(formSources(eventForms('crud', 'consumers', { operation: 'update' }))).toEqual(['crud', 'dao:crud']);
  });
});

describe('matchHook', () => {
  const forms = eventForms('crud', 'consumers', { operation: 'create' });

  it.each([
    [
      { source: 'crud', event: null },
      { source: 'crud', event: 'consumers' },
    ],
    [
      { source: 'crud', event: 'consumers' },
      { source: 'crud', event: 'consumers' },
    ],
    [
      { source: 'crud', event: 'consumers:create' },
      { source: 'crud', event: 'consumers:create' },
    ],
    [
      { source: 'dao:crud', event: null },
      { source: 'dao:crud', event: 'create' },
    ],
    [
      { source: 'dao:crud', event: 'create' },
      { source: 'dao:crud', event: 'create' },
    ],
  ])('matches %o once, under %o', (hook, form) => {
    expect(matchHook(hook, forms)).toEqual(form);
  });

  it.each([
    { source: 'crud', event: 'routes' },
    { source: 'crud', event: 'consumers:delete' },
    { source: 'dao:crud', event: 'update' },
    { source: 'balancer', event: null },
  ])('does not match %o', (hook) => {
    expect(matchHook(hook, forms)).toBeUndefined();
  });
});
