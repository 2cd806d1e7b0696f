import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../shared/errors.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { ManualClock } from '../../../shared/ports/clock.ts';
import {
  HookStore,
  InvalidOffsetError,
  USAGE_HEAL_GRACE_MS,
  type UsageGuard,
} from '../../../shared/store/hookStore.ts';
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

/** A command the client is about to send: what a fault below picks its victims by. */
interface SentCommand {
  constructor: { name: string };
  input: { Key?: { sk?: string }; Item?: { sk?: string } };
}

/**
 * The real store's client, except that `fail` may throw in place of a command, as a throttled or
 * timed-out DynamoDB call does (after the SDK's own retries).
 */
function faultyClient(client: DynamoDBDocumentClient, fail: (command: SentCommand) => boolean): DynamoDBDocumentClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: SentCommand) => {
        if (fail(command))
          throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
        return (target.send as (c: unknown) => Promise<unknown>)(command);
      };
    },
  });
}

const isHookPut = (command: SentCommand) =>
  command.constructor.name === 'PutCommand' && command.input.Item?.sk !== 'HOOK_USAGE';
const isUsageUpdate = (command: SentCommand) =>
  command.constructor.name === 'UpdateCommand' && command.input.Key?.sk === 'HOOK_USAGE';
const isVersionBump = (command: SentCommand) => command.input.Key?.sk === 'HOOKS_VERSION';

/** Fails the next hook Put, then the counter update after it (the give-back of its reservation). */
const putAndGiveBack = () => {
  let stage: 'put' | 'giveBack' | 'done' = 'put';
  return (command: SentCommand) => {
    if (stage === 'put' && isHookPut(command)) {
      stage = 'giveBack';
      return true;
    }
    if (stage === 'giveBack' && isUsageUpdate(command)) {
      stage = 'done';
      return true;
    }
    return false;
  };
};

/** Fails the first `n` commands `match` picks. */
const failFirst = (n: number, match: (command: SentCommand) => boolean) => {
  let left = n;
  return (command: SentCommand) => {
    if (left <= 0 || !match(command)) return false;
    left--;
    return true;
  };
};

describe('HookStore usage counter under failures', () => {
  const T0 = Date.parse('2026-11-29T08:00:00Z');
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  /** The user functions each test hook stands for (the store counts whatever its guard says). */
  const functionCounts = new Map<string, number>();
  const guard = (hooks: number | null, functions: number | null = null): UsageGuard => ({
    functionsOf: (h) => functionCounts.get(h.id) ?? 0,
    limits: { hooks, functions },
    refuse: (quota, made) => new Error(`quota ${quota} (${made})`),
  });
  const tenant = () => `u-${randomUUID().slice(0, 8)}`;
  const newHook = (functions = 0): EventHook => {
    const made = hook(randomUUID());
    functionCounts.set(made.id, functions);
    return made;
  };
  const storeWith = (fail: (command: SentCommand) => boolean, clock = new ManualClock(T0)) =>
    new HookStore({ client: faultyClient(store.client, fail), tableName: store.tableName, clock });

  it('keeps the slot of a hook stored whose version bump failed: a quota of 1 stores one hook (Q1)', async () => {
    // Prepare
    const t = tenant();
    const hooks = storeWith(failFirst(1, isVersionBump));

    // Act
    const first = await hooks.create(t, newHook(), guard(1)).catch((error: Error) => error);
    const second = await hooks.create(t, newHook(), guard(1)).catch((error: Error) => error);

    // Assess: the first failed to its client, yet is stored and counted; the second is refused.
    expect(first).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(second).toMatchObject({ message: 'quota hooks (2)' });
    expect(await hooks.listAll(t)).toHaveLength(1);
    expect(await hooks.usage(t, guard(1))).toEqual({ hooks: 1, functions: 0 });
  });

  it('never counts below zero: a delete after a failed version bump leaves the counter at what is stored (Q3)', async () => {
    // Prepare
    const t = tenant();
    const hooks = storeWith(failFirst(1, isVersionBump));
    const h = newHook(2);
    await hooks.create(t, h, guard(5)).catch(() => undefined);

    // Act
    await hooks.delete(t, h.id, guard(5));

    // Assess
    expect(await hooks.listAll(t)).toHaveLength(0);
    expect(await hooks.usage(t, guard(5))).toEqual({ hooks: 0, functions: 0 });
  });

  it('refuses a count-down below zero as a drift, not an error to the client', async () => {
    // Prepare: a hook stored without counting, then a counter made before it (a drifted count).
    const t = tenant();
    const hooks = storeWith(() => false);
    await hooks.usage(t, guard(5));
    const h = newHook(1);
    await hooks.create(t, h);

    // Act
    const deleted = await hooks.delete(t, h.id, guard(5));

    // Assess
    expect(deleted?.id).toBe(h.id);
    expect(await hooks.usage(t, guard(5))).toEqual({ hooks: 0, functions: 0 });
  });

  it('heals a reservation leaked by a failed Put and a failed give-back, after the grace period and not before (Q2)', async () => {
    // Prepare: the Put fails and so does the give-back of its reservation (the next counter update).
    const t = tenant();
    const clock = new ManualClock(T0);
    let failing = false;
    const faults = putAndGiveBack();
    const hooks = storeWith((command) => failing && faults(command), clock);
    await hooks.usage(t, guard(1));
    failing = true;
    await expect(hooks.create(t, newHook(), guard(1))).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    failing = false;
    expect(await hooks.listAll(t)).toHaveLength(0);
    expect(await hooks.usage(t, guard(1))).toEqual({ hooks: 1, functions: 0 });

    // Act / Assess: refused while a reservation could still be in flight, healed once it cannot.
    clock.advance(USAGE_HEAL_GRACE_MS);
    await expect(hooks.create(t, newHook(), guard(1))).rejects.toThrow('quota hooks (2)');
    expect(await hooks.usage(t, guard(1))).toEqual({ hooks: 1, functions: 0 });
    clock.advance(1);
    await expect(hooks.create(t, newHook(), guard(1))).resolves.toBeUndefined();
    expect(await hooks.listAll(t)).toHaveLength(1);
    expect(await hooks.usage(t, guard(1))).toEqual({ hooks: 1, functions: 0 });
    await expect(hooks.create(t, newHook(), guard(1))).rejects.toThrow('quota hooks (2)');
  });

  it('heals leaked user functions too, by the same grace', async () => {
    // Prepare: a reservation of 2 functions whose Put and give-back fail, beside a stored hook of 1.
    const t = tenant();
    const clock = new ManualClock(T0);
    let failing = false;
    const faults = putAndGiveBack();
    const hooks = storeWith((command) => failing && faults(command), clock);
    await hooks.create(t, newHook(1), guard(null, 3));
    failing = true;
    await hooks.create(t, newHook(2), guard(null, 3)).catch(() => undefined);
    failing = false;

    // Act
    clock.advance(USAGE_HEAL_GRACE_MS + 1);
    await hooks.create(t, newHook(2), guard(null, 3));

    // Assess
    expect(await hooks.usage(t, guard(null, 3))).toEqual({ hooks: 2, functions: 3 });
    await expect(hooks.create(t, newHook(1), guard(null, 3))).rejects.toThrow('quota user_functions (4)');
  });

  it('does not erase reservations in flight: a counter that changed within the grace is not healed', async () => {
    // Prepare: a leaked slot long ago, then a reservation made now whose Put has not landed yet.
    const t = tenant();
    const clock = new ManualClock(T0);
    let failing = false;
    const faults = putAndGiveBack();
    const hooks = storeWith((command) => failing && faults(command), clock);
    await hooks.usage(t, guard(2));
    failing = true;
    await hooks.create(t, newHook(), guard(2)).catch(() => undefined);
    failing = false;
    clock.advance(USAGE_HEAL_GRACE_MS + 1);
    let land: () => void = () => undefined;
    const landed = new Promise<void>((resolve) => {
      land = resolve;
    });
    const slow = new HookStore({
      client: new Proxy(store.client, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (command: SentCommand) => {
            if (isHookPut(command)) await landed;
            return (target.send as (c: unknown) => Promise<unknown>)(command);
          };
        },
      }),
      tableName: store.tableName,
      clock,
    });
    const inFlight = slow.create(t, newHook(), guard(2));
    await expect.poll(() => hooks.usage(t, guard(2))).toEqual({ hooks: 2, functions: 0 });

    // Act: the leak is old, but the counter changed just now: no heal may take the in-flight slot.
    clock.advance(USAGE_HEAL_GRACE_MS);
    const refused = await hooks.create(t, newHook(), guard(2)).catch((error: Error) => error);
    land();
    await inFlight;

    // Assess
    expect(refused).toMatchObject({ message: 'quota hooks (3)' });
    expect(await hooks.listAll(t)).toHaveLength(1);
    expect(await hooks.usage(t, guard(2))).toEqual({ hooks: 2, functions: 0 });

    // Once it stood still past the grace, the leaked slot (and only it) is healed.
    clock.advance(USAGE_HEAL_GRACE_MS + 1);
    await expect(hooks.create(t, newHook(), guard(2))).resolves.toBeUndefined();
    expect(await hooks.listAll(t)).toHaveLength(2);
    expect(await hooks.usage(t, guard(2))).toEqual({ hooks: 2, functions: 0 });
  });

  it('heals nothing while a delete is under way: the delete marks the counter as changing first', async () => {
    // Prepare: 2 stored of a quota of 2, the counter untouched past the grace.
    const t = tenant();
    const clock = new ManualClock(T0);
    const hooks = storeWith(() => false, clock);
    const [x, y] = [newHook(), newHook()];
    await hooks.create(t, x, guard(2));
    await hooks.create(t, y, guard(2));
    clock.advance(USAGE_HEAL_GRACE_MS + 1);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The delete's count-down waits, as if its process were slow: the hook is gone, still counted.
    let held = false;
    const slow = new HookStore({
      client: new Proxy(store.client, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (command: SentCommand & { input: { UpdateExpression?: string } }) => {
            if (!held && isUsageUpdate(command) && command.input.UpdateExpression?.startsWith('ADD')) {
              held = true;
              await released;
            }
            return (target.send as (c: unknown) => Promise<unknown>)(command);
          };
        },
      }),
      tableName: store.tableName,
      clock,
    });
    const deleting = slow.delete(t, x.id, guard(2));
    await expect.poll(async () => (await hooks.listAll(t)).length).toBe(1);

    // Act: two creates race the pending count-down.
    const first = await hooks.create(t, newHook(), guard(2)).catch((error: Error) => error);
    release();
    await deleting;
    const second = await hooks.create(t, newHook(), guard(2)).catch((error: Error) => error);

    // Assess: never more than 2 stored, and the counter matches.
    expect(first).toMatchObject({ message: 'quota hooks (3)' });
    expect(second).toBeUndefined();
    expect(await hooks.listAll(t)).toHaveLength(2);
    expect(await hooks.usage(t, guard(2))).toEqual({ hooks: 2, functions: 0 });
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
