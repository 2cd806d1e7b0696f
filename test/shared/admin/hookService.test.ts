import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalDeliveryQueue } from '../../../shared/adapters/local/deliveryQueue.ts';
import { createLocalEventBus } from '../../../shared/adapters/local/eventBus.ts';
import { type App, createApp } from '../../../shared/compositionRoot.ts';
import { loadConfig } from '../../../shared/config.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { EventHooksError } from '../../../shared/errors.ts';
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
  let functions: ReturnType<typeof recordingRunner>;
  const logger = memoryLogger();
  const http = createHttpSender();
  const queue = createLocalDeliveryQueue({ logger });
  const bus = createLocalEventBus({ logger });

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
        bus,
        queue,
        functions: functions.runner,
        http,
      },
    });
    bus.subscribe((event) => app.dispatch(event));
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

  it('after an update is stored, deploys it, marks it active, then removes only its old function', async () => {
    // Prepare
    const id = await lambdaHook([A, B, C]);

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [A, B2, C] } });

    // Assess: the local deploy queue runs the job inside the request
    expect(res.status).toBe(200);
    expect(res.body?.deployment).toEqual({ state: 'active' });
    expect(functions.calls).toEqual([
      { op: 'deploy', functions: [A, B2, C], storedThen: [A, B2, C] },
      { op: 'remove', functions: [null, B, null], storedThen: [A, B2, C] },
    ]);
    expect((await request('GET', `/event-hooks/${id}`)).body?.deployment).toEqual({ state: 'active' });
  });

  it('deploys and removes nothing for a write that loses a concurrent one', async () => {
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
    expect(functions.calls).toEqual([]);
    expect((await request('GET', `/event-hooks/${id}`)).body).toMatchObject({ on_change: true });
  });

  it('when the deploy fails, keeps the hook stored as failed with the reason', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);
    functions.failNext.deploy = new EventHooksError(
      'could not deploy Lambda function x: InvalidParameterValueException',
    );

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { config: { functions: [B2, B] } });

    // Assess
    expect(res.status).toBe(200);
    const failed = { state: 'failed', error: 'could not deploy Lambda function x: InvalidParameterValueException' };
    expect(res.body?.deployment).toEqual(failed);
    expect((await request('GET', `/event-hooks/${id}`)).body?.deployment).toEqual(failed);
    expect(functions.calls.map((c) => c.op)).toEqual(['deploy', 'remove']);
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

  it('makes no runner call when an update keeps every function of an active hook', async () => {
    // Prepare
    const id = await lambdaHook([A, B]);

    // Act
    const res = await request('PATCH', `/event-hooks/${id}`, { on_change: true });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body?.deployment).toEqual({ state: 'active' });
    expect(functions.calls).toEqual([]);
  });

  it('takes back a hook as read, deployment included, and keeps Kong’s shape for hooks without user code', async () => {
    // Prepare
    const id = await lambdaHook([A]);
    const read = (await request('GET', `/event-hooks/${id}`)).body!;

    // Act
    const put = await request('PUT', `/event-hooks/${id}`, { ...read, on_change: true });
    const log = await request('POST', '/event-hooks', { source: 'crud', event: 'consumers', handler: 'log' });
    const named = await request('POST', '/event-hooks', {
      source: 'crud',
      handler: 'lambda',
      config: { functions: [REFERENCE] },
    });

    // Assess
    expect(put.status).toBe(200);
    expect(put.body?.deployment).toEqual({ state: 'active' });
    expect(log.body).not.toHaveProperty('deployment');
    expect(named.body).not.toHaveProperty('deployment');
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
});
