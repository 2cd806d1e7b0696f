import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../../shared/compositionRoot.ts';
import { loadConfig } from '../../../shared/config.ts';
import { LOCAL_RETRY_POLICY } from '../../../shared/delivery/retryPolicy.ts';
import { EventHooksError } from '../../../shared/errors.ts';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { createHttpSender } from '../../../shared/http/httpSender.ts';
import { memoryLogger } from '../../../shared/logger.ts';
import { requeuePendingDeployments } from '../../../shared/pipeline/functionDeployer.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import type { DeliveryJob } from '../../../shared/ports/deliveryQueue.ts';
import type { FunctionDeployJob } from '../../../shared/ports/functionDeployQueue.ts';
import type { FunctionArgs, FunctionRunner, HookFunctions } from '../../../shared/ports/functionRunner.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const A = 'return function (data) { return { ...data, a: 1 } }';
const B = 'return function (data) { return { ...data, b: 1 } }';

/**
 * A runner whose functions exist once deployed (invoking one that does not exist fails, as on Lambda),
 * and whose next deploy can be made to fail.
 */
function fakeLambda() {
  const deployed = new Set<string>();
  const key = (hookId: string, index: number, code: string) => `${hookId}/${index}/${code}`;
  const failNext: { deploy?: Error } = {};
  const calls: { op: string; functions: (string | null)[] }[] = [];
  const runner: FunctionRunner = {
    async deploy(hook: HookFunctions) {
      calls.push({ op: 'deploy', functions: [...hook.functions] });
      const failure = failNext.deploy;
      delete failNext.deploy;
      if (failure) throw failure;
      for (const [index, code] of hook.functions.entries()) if (code) deployed.add(key(hook.id, index, code));
    },
    async remove(hook: HookFunctions) {
      calls.push({ op: 'remove', functions: [...hook.functions] });
      for (const [index, code] of hook.functions.entries()) if (code) deployed.delete(key(hook.id, index, code));
    },
    async invoke(target, args: FunctionArgs) {
      if (target.kind !== 'code' || !deployed.has(key(target.hookId, target.index, target.code))) {
        throw new Error('no such function');
      }
      return { ...(args.data as object), [`f${target.index}`]: true };
    },
  };
  return { runner, failNext, calls };
}

describe('user functions deployed off the request path (a deploy queue that only queues, as SQS)', () => {
  let store: TestStore;
  let app: App;
  const logger = memoryLogger();
  const http = createHttpSender();
  const jobs: FunctionDeployJob[] = [];
  const sent: DeliveryJob[] = [];
  const lambda = fakeLambda();

  beforeAll(async () => {
    store = await startTestStore();
    app = createApp({
      config: loadConfig({ TABLE_NAME: store.tableName, RUNTIME: 'local', DYNAMODB_ENDPOINT: store.endpoint }),
      client: store.client,
      clock: systemClock,
      logger,
      retryPolicy: LOCAL_RETRY_POLICY,
      ports: {
        bus: { publish: async () => [] },
        queue: {
          send: async (batch: DeliveryJob[]) => {
            sent.push(...batch);
          },
        } as never,
        functions: lambda.runner,
        http,
        deployments: () => ({
          send: async (job) => {
            jobs.push(job);
            return undefined;
          },
        }),
      },
    });
  });

  afterAll(async () => {
    http.close();
    await store.close();
  });

  beforeEach(() => {
    jobs.length = 0;
    sent.length = 0;
    lambda.calls.length = 0;
  });

  const create = async (functions: string[]) => {
    const res = await app.admin({
      method: 'POST',
      path: '/event-hooks',
      query: new URLSearchParams(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'crud', event: 'consumers', handler: 'lambda', config: { functions } }),
    });
    return { status: res.statusCode, hook: JSON.parse(res.body) as EventHook };
  };

  const deliveryOf = (hookId: string): DeliveryJob => ({
    type: 'deliver.v1',
    deliveryId: `d-${hookId}`,
    tenant: 'default',
    hookId,
    event: {
      id: 'e1',
      time: new Date().toISOString(),
      tenant: 'default',
      source: 'crud',
      event: 'consumers',
      data: {},
    },
    attempt: 1,
    firstQueuedAt: Date.now(),
  });

  it('answers the write at once with the hook pending and one queued job, deploying nothing in the request', async () => {
    // Act
    const { status, hook } = await create([A, B]);

    // Assess
    expect(status).toBe(201);
    expect(hook.deployment).toEqual({ state: 'pending' });
    expect(jobs).toEqual([{ tenant: 'default', hookId: hook.id, remove: [] }]);
    expect(lambda.calls).toEqual([]);
  });

  it('has deliveries wait (retry) while pending, and deliver once the job has marked the hook active', async () => {
    // Prepare
    const { hook } = await create([A, B]);

    // Act
    const whilePending = await app.deliver(deliveryOf(hook.id));
    const retried = sent.length;
    const deployment = await app.deployFunctions(jobs[0]!, { final: false });
    const onceActive = await app.deliver(deliveryOf(hook.id));

    // Assess
    expect(whilePending).toBe('retry');
    expect(retried).toBe(1);
    expect(deployment).toEqual({ state: 'active' });
    expect((await app.service.get('default', hook.id)).deployment).toEqual({ state: 'active' });
    expect(onceActive).toBe('delivered');
  });

  it('leaves the hook pending when a deploy attempt that is not the last fails (the job comes back)', async () => {
    // Prepare
    const { hook } = await create([A]);
    lambda.failNext.deploy = new EventHooksError('could not deploy Lambda function x: TooManyRequestsException');

    // Act
    const attempt = app.deployFunctions(jobs[0]!, { final: false });

    // Assess
    await expect(attempt).rejects.toThrow('TooManyRequestsException');
    expect((await app.service.get('default', hook.id)).deployment).toEqual({ state: 'pending' });
    expect(await app.deployFunctions(jobs[0]!, { final: false })).toEqual({ state: 'active' });
  });

  it('marks the hook failed on the last attempt, and its deliveries are dead-lettered with the reason', async () => {
    // Prepare
    const { hook } = await create([A]);
    lambda.failNext.deploy = new EventHooksError('could not deploy Lambda function x: CodeStorageExceededException');

    // Act
    const deployment = await app.deployFunctions(jobs[0]!, { final: true });
    const outcome = await app.deliver(deliveryOf(hook.id));

    // Assess
    expect(deployment).toEqual({
      state: 'failed',
      error: 'could not deploy Lambda function x: CodeStorageExceededException',
    });
    expect(outcome).toBe('dead-letter');
  });

  it('a late job of an older version leaves the newer version pending for its own job', async () => {
    // Prepare: v1 is stored, then v2 replaces it before v1's job runs
    const { hook } = await create([A]);
    const first = jobs[0]!;
    await app.service.patch('default', hook.id, { config: { functions: [B] } });
    const second = jobs[1]!;

    // Act
    await app.deployFunctions(first, { final: false });

    // Assess: the job works on what is stored now (v2), so it deploys B, never A
    expect(lambda.calls).toEqual([{ op: 'deploy', functions: [B] }]);
    expect(second).toEqual({ tenant: 'default', hookId: hook.id, remove: [A] });
    await app.deployFunctions(second, { final: false });
    expect(lambda.calls.at(-1)).toEqual({ op: 'remove', functions: [A] });
  });

  it('queues a job again for every hook still pending, so a lost job does not leave it pending for ever', async () => {
    // Prepare: one pending hook (its job was lost), one active
    const { hook: lost } = await create([A]);
    const { hook: done } = await create([B]);
    await app.deployFunctions(jobs[1]!, { final: false });
    jobs.length = 0;

    // Act
    const requeued = await requeuePendingDeployments(app.hooks, 'default', {
      send: async (job) => {
        jobs.push(job);
        return undefined;
      },
    });

    // Assess: earlier tests left pending hooks too; this one is among them, the active one is not
    expect(requeued).toBe(jobs.length);
    expect(jobs).toContainEqual({ tenant: 'default', hookId: lost.id, remove: [] });
    expect(jobs.map((job) => job.hookId)).not.toContain(done.id);
  });
});
