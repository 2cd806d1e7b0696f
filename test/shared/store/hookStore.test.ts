import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../shared/errors.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { HookStore, InvalidOffsetError } from '../../../shared/store/hookStore.ts';
import { SourceStore } from '../../../shared/store/sourceStore.ts';
import { keys } from '../../../shared/store/table.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const hook = (id: string, source = 'crud', event: string | null = 'consumers'): EventHook => ({
  id,
  created_at: 1_700_000_000,
  source,
  event,
  handler: 'log',
  on_change: null,
  snooze: null,
  config: {},
});

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('HookStore', () => {
  let store: TestStore;
  let hooks: HookStore;
  beforeAll(async () => {
    store = await startTestStore();
    hooks = new HookStore({ client: store.client, tableName: store.tableName });
  });
  afterAll(() => store.close());

  it('creates a hook and reads it back by id with its revision', async () => {
    await hooks.create('t1', hook(id(1)));
    expect(await hooks.get('t1', id(1))).toEqual({ hook: hook(id(1)), rev: 1 });
  });

  it('refuses to create a hook whose id is taken, leaving the stored one unchanged', async () => {
    await hooks.create('t2', hook(id(1)));
    await expect(hooks.create('t2', { ...hook(id(1)), source: 'balancer' })).rejects.toBeInstanceOf(ConflictError);
    expect((await hooks.get('t2', id(1)))?.hook.source).toBe('crud');
  });

  it('keeps tenants apart', async () => {
    await hooks.create('t3', hook(id(1)));
    expect(await hooks.get('t4', id(1))).toBeUndefined();
    expect((await hooks.list('t4', { size: 10 })).hooks).toEqual([]);
  });

  it('replaces only at the revision that was read (optimistic concurrency)', async () => {
    await hooks.create('t5', hook(id(1)));
    const read = await hooks.get('t5', id(1));
    await hooks.replace('t5', { ...hook(id(1)), event: 'routes' }, read?.rev);
    await expect(hooks.replace('t5', { ...hook(id(1)), event: 'services' }, read?.rev)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await hooks.get('t5', id(1))).toEqual({ hook: { ...hook(id(1)), event: 'routes' }, rev: 2 });
  });

  it('pages through every hook exactly once with opaque offsets', async () => {
    for (let n = 1; n <= 7; n++) await hooks.create('t6', hook(id(n)));
    const seen: string[] = [];
    let offset: string | undefined;
    let pages = 0;
    do {
      const page = await hooks.list('t6', { size: 3, ...(offset ? { offset } : {}) });
      seen.push(...page.hooks.map((h) => h.id));
      offset = page.next;
      pages++;
    } while (offset && pages < 10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7].map(id));
    expect(pages).toBe(3);
  });

  it('rejects an offset it did not issue', async () => {
    await expect(hooks.list('t6', { size: 3, offset: 'not-an-offset' })).rejects.toBeInstanceOf(InvalidOffsetError);
  });

  it('finds hooks by source, and moves a hook between sources when it is replaced', async () => {
    await hooks.create('t7', hook(id(1), 'crud'));
    await hooks.create('t7', hook(id(2), 'balancer', 'health'));
    await hooks.create('t7', hook(id(3), 'crud', null));
    expect((await hooks.listBySource('t7', 'crud')).map((h) => h.id)).toEqual([id(1), id(3)]);
    await hooks.replace('t7', hook(id(1), 'balancer', 'health'), 1);
    expect((await hooks.listBySource('t7', 'crud')).map((h) => h.id)).toEqual([id(3)]);
    expect((await hooks.listBySource('t7', 'balancer')).map((h) => h.id)).toEqual([id(1), id(2)]);
  });

  it('deletes a hook, returning what was deleted, and bumps the version on every write', async () => {
    const v0 = await hooks.version('t8');
    await hooks.create('t8', hook(id(1)));
    const v1 = await hooks.version('t8');
    expect(await hooks.delete('t8', id(1))).toEqual(hook(id(1)));
    expect(await hooks.delete('t8', id(1))).toBeUndefined();
    const v2 = await hooks.version('t8');
    expect(v1).toBeGreaterThan(v0);
    expect(v2).toBeGreaterThan(v1);
    expect(await hooks.get('t8', id(1))).toBeUndefined();
  });
});

describe('SourceStore', () => {
  let store: TestStore;
  let sources: SourceStore;
  let hooks: HookStore;
  beforeAll(async () => {
    store = await startTestStore();
    sources = new SourceStore({ client: store.client, tableName: store.tableName });
    hooks = new HookStore({ client: store.client, tableName: store.tableName });
  });
  afterAll(() => store.close());

  it('stores user-defined events per tenant as a catalog and bumps the hooks version', async () => {
    const before = await hooks.version('s1');
    await sources.put('s1', 'billing', 'invoice-paid', { fields: ['amount'], unique: ['amount'], description: 'paid' });
    await sources.put('s1', 'billing', 'invoice-late', { fields: ['days'] });
    expect(await sources.list('s1')).toEqual({
      billing: {
        'invoice-late': { fields: ['days'] },
        'invoice-paid': { fields: ['amount'], unique: ['amount'], description: 'paid' },
      },
    });
    expect(await sources.list('s2')).toEqual({});
    expect(await hooks.version('s1')).toBeGreaterThan(before);
  });

  it('deletes an event and says whether it existed', async () => {
    await sources.put('s3', 'billing', 'x', { fields: [] });
    expect(await sources.delete('s3', 'billing', 'x')).toBe(true);
    expect(await sources.delete('s3', 'billing', 'x')).toBe(false);
    expect(await sources.list('s3')).toEqual({});
  });

  it('stores config keys DynamoDB marshalling cannot hold, such as a header named constructor', async () => {
    const odd = {
      ...hook(id(1), 'balancer', 'health'),
      handler: 'webhook',
      config: JSON.parse('{"url":"http://x.test/","headers":{"constructor":"c","__proto__":"p"},"n":9007199254740993}'),
    } as EventHook;
    await hooks.create('t9', odd);
    const got = await hooks.get('t9', id(1));
    expect(JSON.stringify(got?.hook)).toBe(JSON.stringify(odd));
    expect(JSON.stringify(await hooks.listBySource('t9', 'balancer'))).toBe(JSON.stringify([odd]));
    expect(JSON.stringify((await hooks.list('t9', { size: 5 })).hooks)).toBe(JSON.stringify([odd]));
    expect(JSON.stringify(await hooks.listAll('t9'))).toBe(JSON.stringify([odd]));
    expect(JSON.stringify(await hooks.delete('t9', id(1)))).toBe(JSON.stringify(odd));
  });

  it('still reads hooks stored as marshalled maps by the previous version', async () => {
    const old = hook(id(2), 'balancer', 'health');
    await store.client.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...keys.hook('t10', old.id), ...keys.hookBySource('t10', old.source, old.id), rev: 3, hook: old },
      }),
    );
    expect(await hooks.get('t10', old.id)).toEqual({ hook: old, rev: 3 });
    expect(await hooks.listBySource('t10', 'balancer')).toEqual([old]);
    expect(await hooks.listAll('t10')).toEqual([old]);
    await hooks.replace('t10', { ...old, snooze: 5 }, 3);
    expect(await hooks.get('t10', old.id)).toEqual({ hook: { ...old, snooze: 5 }, rev: 4 });
  });
});
