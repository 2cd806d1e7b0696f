import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { HookCache } from '../../../shared/pipeline/hookCache.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { HookStore } from '../../../shared/store/hookStore.ts';
import { SourceStore } from '../../../shared/store/sourceStore.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const hook = (n: number, source = 'balancer'): EventHook => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  created_at: 0,
  source,
  event: null,
  handler: 'log',
  on_change: null,
  snooze: null,
  config: {},
});

describe('HookCache', () => {
  let store: TestStore;
  let hooks: HookStore;
  let sources: SourceStore;
  let reads: number;
  const commands: { name: string; input: Record<string, unknown> }[] = [];
  let cachedHooks: HookStore;
  let cachedSources: SourceStore;
  beforeAll(async () => {
    store = await startTestStore();
    const send = store.client.send.bind(store.client);
    reads = 0;
    // Count what the cache asks of the store (writes made by the test itself go through `hooks` below).
    const counting = Object.assign(Object.create(store.client), {
      send: (command: Parameters<typeof send>[0]) => {
        reads++;
        commands.push({ name: command.constructor.name, input: command.input as Record<string, unknown> });
        return send(command);
      },
    });
    hooks = new HookStore({ client: store.client, tableName: store.tableName });
    sources = new SourceStore({ client: store.client, tableName: store.tableName });
    cachedHooks = new HookStore({ client: counting, tableName: store.tableName });
    cachedSources = new SourceStore({ client: counting, tableName: store.tableName });
  });
  afterAll(() => store.close());

  it('sees a write made elsewhere only after the check interval, then at once on the next look-up', async () => {
    const clock = new ManualClock(1_000_000);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 1000 });
    await hooks.create('a', hook(1));
    expect((await cache.hooksFor('a', 'balancer')).map((h) => h.id)).toEqual([hook(1).id]);
    await hooks.create('a', hook(2));
    clock.advance(999);
    expect(await cache.hooksFor('a', 'balancer')).toHaveLength(1);
    clock.advance(1);
    expect(await cache.hooksFor('a', 'balancer')).toHaveLength(2);
    expect(await cache.hook('a', hook(2).id)).toEqual(hook(2));
  });

  it('answers a burst of look-ups with one version read and one load', async () => {
    const clock = new ManualClock(0);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 1000 });
    await hooks.create('b', hook(1));
    reads = 0;
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.hooksFor('b', 'balancer')));
    expect(results.every((r) => r.length === 1)).toBe(true);
    // one version read, one catalog query, one query of the tenant's hooks
    expect(reads).toBe(3);
    reads = 0;
    clock.advance(1000);
    await Promise.all(Array.from({ length: 50 }, () => cache.hook('b', hook(1).id)));
    // one version read (unchanged, so nothing reloads); the hook comes from the loaded set
    expect(reads).toBe(1);
  });

  it('looks a hook up with one GetItem where nothing was dispatched (the delivery function)', async () => {
    const clock = new ManualClock(0);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 1000 });
    await hooks.create('e', hook(1));
    reads = 0;
    await Promise.all(Array.from({ length: 20 }, () => cache.hook('e', hook(1).id)));
    // version, catalog, one GetItem
    expect(reads).toBe(3);
    expect(await cache.hook('e', hook(2).id)).toBeUndefined();
  });

  it('reads hooks only from the base table with strongly consistent reads, never from the lagging index', async () => {
    const clock = new ManualClock(0);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 0 });
    await hooks.create('f', hook(1, 'crud'));
    commands.length = 0;
    expect((await cache.hooksFor('f', 'crud')).map((h) => h.id)).toEqual([hook(1).id]);
    await hooks.create('f', hook(2, 'crud'));
    expect((await cache.hooksFor('f', 'crud')).map((h) => h.id)).toEqual([hook(1).id, hook(2).id]);
    await cache.hook('f', hook(2).id);
    const reads = commands.filter((c) => c.name === 'QueryCommand' || c.name === 'GetCommand');
    expect(reads.length).toBeGreaterThan(0);
    for (const read of reads) {
      expect(read.input.IndexName).toBeUndefined();
      expect(read.input.ConsistentRead).toBe(true);
    }
  });

  it('forgets everything of a tenant when invalidated, and picks up catalog changes', async () => {
    const clock = new ManualClock(0);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 60_000 });
    expect((await cache.catalog('c')).billing).toBeUndefined();
    await sources.put('c', 'billing', 'paid', { fields: ['amount'] });
    expect((await cache.catalog('c')).billing).toBeUndefined();
    cache.invalidate('c');
    expect((await cache.catalog('c')).billing).toEqual({ paid: { fields: ['amount'] } });
  });

  it('reports a deleted hook as gone after the next check', async () => {
    const clock = new ManualClock(0);
    const cache = new HookCache({ hooks: cachedHooks, sources: cachedSources, clock, checkIntervalMs: 1000 });
    await hooks.create('d', hook(1));
    expect(await cache.hook('d', hook(1).id)).toBeDefined();
    await hooks.delete('d', hook(1).id);
    clock.advance(1000);
    expect(await cache.hook('d', hook(1).id)).toBeUndefined();
  });
});
