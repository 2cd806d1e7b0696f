import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalDeliveryQueue } from '../../../shared/adapters/local/deliveryQueue.ts';
import { createLocalEventBus, type LocalEventBus } from '../../../shared/adapters/local/eventBus.ts';
import { type App, createApp } from '../../../shared/app.ts';
import { loadConfig } from '../../../shared/config.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { ConflictError, EventHooksError } from '../../../shared/errors.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { createHttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import type { FunctionRunner, HookFunctions } from '../../../shared/ports/functionRunner.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const A = 'return function (data) { return data }';
const B = 'return function (data) { return { ...data, b: 1 } }';
const B2 = 'return function (data) { return { ...data, b: 2 } }';
const C = 'return function (data) { return { ...data, c: 1 } }';
const REFERENCE = 'arn:aws:lambda:us-east-1:123456789012:function:mine';

/** One call to the runner, with the functions of the hook as the store held them at that moment. */
interface RunnerCall {
  op: 'deploy' | 'remove';
  functions: (string | null)[];
  storedThen: string[] | null;
}

/**
 * A FunctionRunner double that records deploy/remove calls and what was stored when they came, and
 * can be told to fail the next call of either kind.
 */
function recordingRunner(stored: (id: string) => Promise<string[] | null>) {
  const calls: RunnerCall[] = [];
  const failNext: { deploy?: Error; remove?: Error } = {};
  const record = async (op: RunnerCall['op'], hook: HookFunctions) => {
    calls.push({ op, functions: [...hook.functions], storedThen: await stored(hook.id) });
    const failure = failNext[op];
    delete failNext[op];
    if (failure) throw failure;
  };
  const runner: FunctionRunner = {
    deploy: (hook) => record('deploy', hook),
    remove: (hook) => record('remove', hook),
    invoke: async () => null,
  };
  return { runner, calls, failNext };
}

describe('HookService in the app: blue/green user functions', () => {
  let store: TestStore;
  let app: App;
  let bus: LocalEventBus | undefined;
  let functions: ReturnType<typeof recordingRunner>;
  const logger = memoryLogger();
  const http = createHttpSender();
  const queue = createLocalDeliveryQueue({ logger });

  beforeAll(async () => {
    store = await startTestStore();
    const config = loadConfig({ TABLE_NAME: store.tableName, RUNTIME: 'local', DYNAMODB_ENDPOINT: store.endpoint });
    functions = recordingRunner(async (id) => {
      const found = await app.hooks.get(config.tenant, id);
      return found?.hook.handler === 'lambda' ? [...found.hook.config.functions] : null;
    });
    app = createApp({
      config,
      client: store.client,
      clock: systemClock,
      logger,
      retryPolicy: LOCAL_RETRY_POLICY,
      ports: {
        bus: (dispatch) => {
          bus = createLocalEventBus({ target: dispatch, logger });
          return bus;
        },
        queue,
        functions: functions.runner,
        http,
      },
    });
  });

  afterAll(async () => {
    await bus?.stop();
    await queue.stop({ drainMs: 0 });
    await app.settled();
    http.close();
    await store.close();
  });

  beforeEach(() => {
    functions.calls.length = 0;
    logger.lines.length = 0;
    vi.restoreAllMocks();
  });

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await app.admin({
      method,
      path,
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as EventHook) : undefined };
  };

  /** Creates a lambda hook and forgets the runner calls that made it. */
  const lambdaHook = async (code: string[]) => {
    const res = await request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'lambda',
      config: { functions: code },
    });
    expect(res.status).toBe(201);
    functions.calls.length = 0;
    return res.body!.id;
  };

  it('on an update, deploys the changed entry before the write and removes only its old function after it', async () => {
    // Prepare
    const id = await lambdaHook([A, B, C]);

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [A, B2, C] } });

    // Assess
    expect(res.status).toBe(200);
    expect(functions.calls).toEqual([
      { op: 'deploy', functions: [A, B2, C], storedThen: [A, B, C] },
      { op: 'remove', functions: [null, B, null], storedThen: [A, B2, C] },
    ]);
  });

  it('on an update that loses a concurrent write, keeps the stored functions and removes what it deployed', async () => {
    // Prepare: another writer stores the hook between this PATCH's read and its conditional write
    const id = await lambdaHook([A, B]);
    const replace = app.hooks.replace.bind(app.hooks);
    vi.spyOn(app.hooks, 'replace').mockImplementationOnce(async (tenant, hook, rev) => {
      const current = await app.hooks.get(tenant, hook.id);
      await replace(tenant, { ...current!.hook, on_change: true } as EventHook, current!.rev);
      return replace(tenant, hook, rev);
    });

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [A, B2] } });

    // Assess
    expect(res.status).toBe(409);
    expect(functions.calls).toEqual([
      { op: 'deploy', functions: [A, B2], storedThen: [A, B] },
      { op: 'remove', functions: [null, B2], storedThen: [A, B] },
    ]);
    expect((await request('GET', `/event-hooks/${id}`)).body).toMatchObject({ on_change: true });
  });

  it('after a lost write, leaves a function alone that the winning writer stored with the same code', async () => {
    // Prepare: the other writer stores exactly the code this PATCH deployed (same names on AWS)
    const id = await lambdaHook([A, B]);
    const replace = app.hooks.replace.bind(app.hooks);
    vi.spyOn(app.hooks, 'replace').mockImplementationOnce(async (tenant, hook, rev) => {
      const current = await app.hooks.get(tenant, hook.id);
      const winner = { ...current!.hook, config: { functions: [A, B2] } } as EventHook;
      await replace(tenant, winner, current!.rev);
      return replace(tenant, hook, rev);
    });

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [A, B2] }, on_change: true });

    // Assess
    expect(res.status).toBe(409);
    expect(functions.calls.map((c) => c.op)).toEqual(['deploy']);
  });

  it('when the deploy fails, stores nothing and removes what it may have created', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);
    functions.failNext.deploy = new EventHooksError('could not deploy Lambda function x: TooManyRequestsException');

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [B2, B] } });

    // Assess
    expect(res.status).toBe(500);
    expect(functions.calls).toEqual([
      { op: 'deploy', functions: [B2, B], storedThen: [A, B] },
      { op: 'remove', functions: [B2, null], storedThen: [A, B] },
    ]);
  });

  it('on delete, removes every code entry of the hook but not a named Lambda function', async () => {
    // Prepare
    const id = await lambdaHook([A, REFERENCE, B]);

    // Act
    const res = await request('DELETE', `/event-hooks/${id}`);

    // Assess
    expect(res.status).toBe(204);
    expect(functions.calls).toEqual([{ op: 'remove', functions: [A, null, B], storedThen: null }]);
  });

  it('on a change to another handler, removes every code entry after the write', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { handler: 'log', config: {} });

    // Assess
    expect(res.status).toBe(200);
    expect(functions.calls).toEqual([{ op: 'remove', functions: [A, B], storedThen: null }]);
  });

  it('makes no runner call when an update keeps every function', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { on_change: true });

    // Assess
    expect(res.status).toBe(200);
    expect(functions.calls).toEqual([{ op: 'deploy', functions: [A, B], storedThen: [A, B] }]);
  });

  it('answers an update as written when removing the old functions fails, and logs it', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);
    functions.failNext.remove = new EventHooksError('could not delete Lambda function x: AccessDeniedException');

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [A, C] } });

    // Assess
    expect(res.status).toBe(200);
    expect((await request('GET', `/event-hooks/${id}`)).body).toMatchObject({ config: { functions: [A, C] } });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'could not remove the user functions of a hook', hook_id: id }),
    );
  });

  it('rethrows the store error, not a clean-up failure, when both fail', async () => {
    // Prepare
    const id = await lambdaHook([A]);
    vi.spyOn(app.hooks, 'replace').mockRejectedValueOnce(new ConflictError('changed concurrently'));
    functions.failNext.remove = new EventHooksError('could not delete');

    // Act
    const patching = app.service.patch('default', id, { config: { functions: [B] } });

    // Assess
    await expect(patching).rejects.toBeInstanceOf(ConflictError);
    expect(functions.calls.map((c) => c.op)).toEqual(['deploy', 'remove']);
  });
});
