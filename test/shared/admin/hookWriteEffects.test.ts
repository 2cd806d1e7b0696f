import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HookChange } from '../../../shared/admin/hookService.ts';
import { createHookWriteEffects, type HookWriteEffectsDeps } from '../../../shared/admin/hookWriteEffects.ts';
import type { HandlerDeps } from '../../../shared/handlers/types.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { createHttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import type { NewEvent } from '../../../shared/ports/eventBus.ts';
import type { FunctionDeployJob } from '../../../shared/ports/functionDeployQueue.ts';
import { type Receiver, startReceiver } from '../../support/receiver.ts';

const TENANT = 'acme';
const CODE = 'return function(data) { return data }';

function webhook(url: string, extra: Partial<EventHook> = {}): EventHook {
  return {
    id: 'hook-webhook',
    created_at: 1,
    source: 'crud',
    event: 'consumers',
    handler: 'webhook',
    on_change: null,
    snooze: null,
    config: { url, secret: 's3cr3t', ssl_verify: false },
    ...extra,
  } as EventHook;
}

function lambdaHook(functions: string[], extra: Partial<EventHook> = {}): EventHook {
  return {
    id: 'hook-lambda',
    created_at: 1,
    source: 'crud',
    event: 'consumers',
    handler: 'lambda',
    on_change: null,
    snooze: null,
    config: { functions },
    ...extra,
  } as EventHook;
}

/** The module on recording parts: what it sent, emitted, invalidated and verified is kept for the test to read. */
function effectsFor(overrides: Partial<HookWriteEffectsDeps> = {}) {
  const logger = memoryLogger();
  const http = createHttpSender({ blockPrivateNetworks: false });
  const jobs: FunctionDeployJob[] = [];
  const emitted: NewEvent[] = [];
  const invalidated: string[] = [];
  const verified: (string | null)[][] = [];
  const handlerDeps = (tenant: string): HandlerDeps => ({
    http,
    functions: { deploy: async () => {}, remove: async () => {}, invoke: async () => null },
    logger,
    tenant,
  });
  const effects = createHookWriteEffects({
    functions: { verify: async ({ functions }) => void verified.push([...functions]) },
    deployQueue: {
      send: async (job) => {
        jobs.push(job);
        return { state: 'active' };
      },
    },
    invalidate: (tenant) => invalidated.push(tenant),
    bus: {
      publish: async (events) => {
        emitted.push(...events);
        return events.map((event) => ({ ...event, id: 'e', time: '2026-01-01T00:00:00Z' }));
      },
    },
    handlerDeps,
    awaitPing: false,
    logger,
    ...overrides,
  });
  return { effects, logger, http, jobs, emitted, invalidated, verified };
}

describe('what happens around a hook write', () => {
  let receiver: Receiver;
  let closedUrl: string;
  const opened: { http: { close(): void } }[] = [];
  const make = (overrides: Partial<HookWriteEffectsDeps> = {}) => {
    const made = effectsFor(overrides);
    opened.push(made);
    return made;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    // A port that was listening a moment ago and no longer is: a ping to it fails to connect.
    const gone = await startReceiver();
    closedUrl = gone.url;
    await gone.close();
  });

  afterAll(async () => {
    for (const { http } of opened) http.close();
    await receiver.close();
  });

  it('invalidates the cache, pings the webhook and emits the change with secrets hidden', async () => {
    const { effects, emitted, invalidated, jobs } = make();
    const hook = webhook(receiver.url);
    const before = receiver.requests.length;
    await effects.afterWrite({ tenant: TENANT, operation: 'create', hook });
    await effects.settled();

    expect(invalidated).toEqual([TENANT]);
    expect(jobs).toEqual([]);
    expect(receiver.requests.length).toBe(before + 1);
    expect(JSON.parse(String(receiver.requests.at(-1)?.body ?? '{}'))).toMatchObject({
      event: 'ping',
      operation: 'create',
    });
    expect(emitted).toEqual([
      {
        tenant: TENANT,
        source: 'crud',
        event: 'event_hooks',
        data: {
          operation: 'create',
          entity: { ...hook, config: { ...hook.config, secret: '[redacted]' } },
          old_entity: null,
          schema: 'event_hooks',
        },
      },
    ]);
    // The stored hook keeps its secret: only the emitted copy hides it.
    expect(hook.config).toMatchObject({ secret: 's3cr3t' });
  });

  it('emits a delete with the deleted entity and no old one, and pings nothing', async () => {
    const { effects, emitted } = make();
    const before = receiver.requests.length;
    const hook = webhook(receiver.url);
    await effects.afterWrite({ tenant: TENANT, operation: 'delete', hook, old: hook });
    await effects.settled();
    expect(receiver.requests.length).toBe(before);
    expect(emitted[0]?.data).toMatchObject({ operation: 'delete', old_entity: null });
  });

  it('with awaitPing, has pinged before afterWrite resolves (Lambda may freeze right after)', async () => {
    const { effects } = make({ awaitPing: true });
    const before = receiver.requests.length;
    await effects.afterWrite({ tenant: TENANT, operation: 'update', hook: webhook(receiver.url) });
    expect(receiver.requests.length).toBe(before + 1);
  });

  it('logs a failed background ping with the hook id, and the write stands', async () => {
    const { effects, logger, emitted } = make();
    await effects.afterWrite({ tenant: TENANT, operation: 'create', hook: webhook(closedUrl) });
    await effects.settled();
    expect(emitted).toHaveLength(1);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'background task failed',
        task: 'ping',
        hook_id: 'hook-webhook',
      }),
    );
  });

  it('logs a failed awaited ping with the hook id, without rejecting', async () => {
    const { effects, logger } = make({ awaitPing: true });
    await expect(
      effects.afterWrite({ tenant: TENANT, operation: 'update', hook: webhook(closedUrl) }),
    ).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'background task failed', task: 'ping', hook_id: 'hook-webhook' }),
    );
  });

  it('logs an emit that failed, without rejecting', async () => {
    const { effects, logger } = make({
      bus: {
        publish: async () => {
          throw new Error('bus down');
        },
      },
    });
    await expect(
      effects.afterWrite({ tenant: TENANT, operation: 'create', hook: lambdaHook(['my-existing-function']) }),
    ).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'could not emit the event_hooks change', hook_id: 'hook-lambda' }),
    );
  });

  it('marks new user code pending, checks it, and deploys it after the write; the answer shows the outcome', async () => {
    const { effects, jobs, verified } = make();
    const change: HookChange = { tenant: TENANT, operation: 'create', hook: lambdaHook([CODE]) };
    await effects.beforeWrite(change);
    expect(change.hook.deployment).toEqual({ state: 'pending' });
    expect(verified).toEqual([[CODE]]);
    await effects.afterWrite(change);
    expect(jobs).toEqual([{ tenant: TENANT, hookId: 'hook-lambda', remove: [] }]);
    expect(change.hook.deployment).toEqual({ state: 'active' });
  });

  it('keeps an active deployment when the code is the same, and queues nothing', async () => {
    const { effects, jobs } = make();
    const old = lambdaHook([CODE], { deployment: { state: 'active' } });
    const change: HookChange = { tenant: TENANT, operation: 'update', hook: lambdaHook([CODE]), old };
    await effects.beforeWrite(change);
    expect(change.hook.deployment).toEqual({ state: 'active' });
    await effects.afterWrite(change);
    expect(jobs).toEqual([]);
  });

  it('removes the functions a new version no longer uses, and all of them on delete', async () => {
    const { effects, jobs } = make();
    const old = lambdaHook([CODE, 'return 2']);
    await effects.afterWrite({ tenant: TENANT, operation: 'update', hook: lambdaHook([CODE]), old });
    const deleted = lambdaHook([CODE]);
    await effects.afterWrite({ tenant: TENANT, operation: 'delete', hook: deleted, old: deleted });
    expect(jobs).toEqual([
      { tenant: TENANT, hookId: 'hook-lambda', remove: [null, 'return 2'] },
      { tenant: TENANT, hookId: 'hook-lambda', remove: [CODE] },
    ]);
  });

  it('keeps the write when the deploy queue fails: logged with the hook id, still emitted', async () => {
    const { effects, logger, emitted } = make({
      deployQueue: {
        send: async () => {
          throw new Error('queue down');
        },
      },
    });
    const change: HookChange = { tenant: TENANT, operation: 'create', hook: lambdaHook([CODE]) };
    await effects.beforeWrite(change);
    await expect(effects.afterWrite(change)).resolves.toBeUndefined();
    expect(change.hook.deployment).toEqual({ state: 'pending' });
    expect(emitted).toHaveLength(1);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'could not queue the deployment of user functions',
        hook_id: 'hook-lambda',
      }),
    );
  });

  it('leaves hooks without user code alone: no check, no deployment state', async () => {
    const { effects, verified } = make();
    const change: HookChange = { tenant: TENANT, operation: 'create', hook: lambdaHook(['my-existing-function']) };
    await effects.beforeWrite(change);
    expect(verified).toEqual([]);
    expect(change.hook.deployment).toBeUndefined();
  });

  it('queues the removal of every function of a tenant’s hook, and only logs a failure', async () => {
    const { effects, jobs } = make();
    await effects.removeFunctions(TENANT, lambdaHook([CODE, 'my-existing-function']));
    await effects.removeFunctions(TENANT, webhook(receiver.url));
    expect(jobs).toEqual([{ tenant: TENANT, hookId: 'hook-lambda', remove: [CODE, null] }]);

    const failing = make({
      deployQueue: {
        send: async () => {
          throw new Error('queue down');
        },
      },
    });
    await expect(failing.effects.removeFunctions(TENANT, lambdaHook([CODE]))).resolves.toBeUndefined();
    expect(failing.logger.lines).toContainEqual(
      expect.objectContaining({ message: 'could not queue the removal of user functions', hook_id: 'hook-lambda' }),
    );
  });
});
