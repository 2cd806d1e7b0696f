import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundledFunction, bundleFunctions, DEFAULT_ENTRIES } from '../../infra/bundle.ts';
import type { DeliveryJob } from '../../shared/ports/deliveryQueue.ts';
import { node24Binary, skipNode24 } from '../support/node24.ts';
import { startTestStore, type TestStore } from '../support/store.ts';

interface AwsCall {
  target: string;
  body: Record<string, unknown>;
  authorization?: string;
}

const KMS_DATA_KEY = Buffer.alloc(32, 5);

/**
 * A loopback stand-in for the EventBridge, SQS and KMS JSON APIs and Lambda's REST API, so the real
 * bundles can run their real SDK clients without reaching AWS: it answers `PutEvents`,
 * `SendMessageBatch`, `SendMessage`, and `CreateFunction`, `GetFunction` (always `Active`) and
 * `ListFunctions` (the functions created so far), and `Invoke` (`"from the stub"`, a log tail). Lambda
 * calls are recorded as `METHOD path`.
 */
async function startAwsStub(): Promise<{ url: string; calls: AwsCall[]; server: Server }> {
  const calls: AwsCall[] = [];
  const functions: string[] = [];
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const target =
      String(req.headers['x-amz-target'] ?? '') || `${req.method} ${req.url?.split('?')[0]?.replace(/\/$/, '')}`;
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    calls.push({ target, body, authorization: String(req.headers.authorization) });
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    let answer: unknown = {};
    let status = 200;
    const headers: Record<string, string> = {};
    if (/^POST \/2015-03-31\/functions\/[^/]+\/invocations$/.test(target)) {
      answer = 'from the stub';
      headers['x-amz-log-result'] = Buffer.from(`invoked with ${req.headers['x-amz-log-type']} log`).toString('base64');
    } else if (target === 'POST /2015-03-31/functions') {
      functions.push(String(body.FunctionName));
      status = 201;
      answer = { FunctionName: body.FunctionName, State: 'Pending' };
    } else if (target.startsWith('GET /2015-03-31/functions/')) {
      answer = { Configuration: { FunctionName: target.split('/').at(-1), State: 'Active' } };
    } else if (target === 'GET /2015-03-31/functions') {
      answer = {
        Functions: functions.map((name) => ({
          FunctionName: name,
          FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
          LastModified: new Date().toISOString(),
        })),
      };
    } else if (target.endsWith('.SendMessage')) {
      answer = { MessageId: randomUUID(), MD5OfMessageBody: md5(String(body.MessageBody)) };
    } else if (target.endsWith('.PutEvents')) {
      const entries = body.Entries as unknown[];
      answer = { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) };
    } else if (target === 'TrentService.GenerateDataKey') {
      // KMS: one fixed data key, "wrapped" as its reverse (enough to tell that Decrypt was asked).
      answer = {
        Plaintext: KMS_DATA_KEY.toString('base64'),
        CiphertextBlob: Buffer.from(KMS_DATA_KEY).reverse().toString('base64'),
      };
    } else if (target === 'TrentService.Decrypt') {
      answer = { Plaintext: Buffer.from(String(body.CiphertextBlob), 'base64').reverse().toString('base64') };
    } else if (target.endsWith('.SendMessageBatch')) {
      const entries = body.Entries as { Id: string; MessageBody: string }[];
      answer = {
        Successful: entries.map((e) => ({ Id: e.Id, MessageId: randomUUID(), MD5OfMessageBody: md5(e.MessageBody) })),
        Failed: [],
      };
    }
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
    res.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

function httpEvent(method: string, path: string, body?: unknown) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r',
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

// Node 24 is the functions' Lambda runtime (infra/bundle.ts targets it), so the bundles run on it here;
// SKIP_NODE24=1 (a laptop that is not linux-x64) runs them on this Node instead, explicitly.
const lambdaNode = skipNode24 ? process.execPath : node24Binary();

describe('function bundles (built, loaded by a fresh Node 24, run against the local store)', () => {
  let outDir: string;
  let bundles: Record<string, BundledFunction>;
  let store: TestStore;
  let aws: Awaited<ReturnType<typeof startAwsStub>>;
  let env: NodeJS.ProcessEnv;

  const invoke = (name: string, event: unknown, extraEnv: Record<string, string> = {}) =>
    // biome-ignore lint/suspicious/noExplicitAny: results are asserted structurally
    new Promise<{ result: any; logs: Record<string, unknown>[] }>((resolve, reject) => {
      const child = spawn(lambdaNode, [join(import.meta.dirname, 'invokeBundle.mjs'), bundles[name]!.file], {
        env: { ...env, ...extraEnv },
        // A bundle that hangs is ended, not left behind when the test times out.
        timeout: 30_000,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.on('exit', (code) => {
        if (code !== 0) return reject(new Error(`bundle ${name} exited ${code}: ${`${err}${out}`.slice(-1500)}`));
        const lines = out.trim().split('\n');
        const logs = lines.slice(0, -1).flatMap((l) => (l.startsWith('{') ? [JSON.parse(l)] : []));
        resolve({ result: JSON.parse(lines.at(-1)!), logs });
      });
      child.stdin.end(JSON.stringify(event));
    });

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'event-hooks-bundles-'));
    const built = await bundleFunctions({ entries: DEFAULT_ENTRIES, outDir, minify: true, metafile: true });
    bundles = Object.fromEntries(built.map((b) => [b.name, b]));
    store = await startTestStore();
    aws = await startAwsStub();
    // Only what Lambda would give the function, plus endpoints that keep every call on this machine.
    env = {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      // Set by Lambda in every execution environment.
      AWS_LAMBDA_FUNCTION_NAME: 'bundle-test',
      // The embedded store verifies signatures against its per-start key.
      AWS_ACCESS_KEY_ID: store.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: aws.url,
      AWS_ENDPOINT_URL_SQS: aws.url,
      AWS_ENDPOINT_URL_LAMBDA: aws.url,
      AWS_ENDPOINT_URL_KMS: aws.url,
      SECRETS_KEY_ARN: 'arn:aws:kms:us-east-1:000000000000:key/test',
      RUNTIME: 'aws',
      TABLE_NAME: store.tableName,
      EVENT_BUS_NAME: 'test-bus',
      DELIVERY_QUEUE_URL: `${aws.url}/000000000000/delivery`,
      DEPLOY_QUEUE_URL: `${aws.url}/000000000000/deploy`,
      USER_FUNCTION_PREFIX: 'test-user',
      USER_FUNCTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/user-code',
      HOOK_CACHE_CHECK_MS: '0',
    };
  }, 120_000);

  afterAll(async () => {
    aws.server.close();
    await store.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it.skipIf(skipNode24)('runs them on Node 24, the Lambda runtime', async () => {
    const { result } = await invoke('admin', httpEvent('GET', '/health'));
    expect(result.statusCode).toBe(200);
    const version = await new Promise<string>((resolve, reject) => {
      const child = spawn(lambdaNode, ['--version']);
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
    });
    expect(version).toMatch(/^v24\./);
  });

  // Issue 10's target: 350 KB each (1 KB = 1000 bytes). The admin function misses it (431 KB): it
  // serves the whole Admin API, so it carries three SDK clients (DynamoDB; SQS for dead-letter replay
  // and deploy jobs; EventBridge for `event_hooks` changes: with @smithy/core and @aws-sdk/core about
  // 210 KB), TypeBox's schemas, checker and error walker for Kong's schema errors (37 KB), the admin
  // routes, OpenAPI and hook service (33 KB), and what validates a hook before it is stored: the
  // address policy with ipaddr.js, mustache, the rule compiler (27 KB; `npx tsx bench/composition.ts admin`).
  const SIZE_LIMITS: Record<string, number> = { admin: 440_000 };
  it('keeps every bundle within 350 KB, but the admin function (see above)', () => {
    expect(Object.keys(bundles).sort()).toEqual(Object.keys(DEFAULT_ENTRIES).sort());
    for (const bundle of Object.values(bundles)) {
      expect({ name: bundle.name, ok: bundle.bytes <= (SIZE_LIMITS[bundle.name] ?? 350_000) }).toEqual({
        name: bundle.name,
        ok: true,
      });
    }
  });

  // Each function builds the shared core and only the surface it serves (shared/composition/), so
  // its bundle carries neither the others' code nor the libraries only they use.
  it('bundles only the surface each function serves', () => {
    const probes = {
      'admin routes': 'shared/admin/router.ts',
      'delivery worker': 'shared/pipeline/deliveryWorker.ts',
      dispatcher: 'shared/pipeline/dispatcher.ts',
      deployer: 'shared/pipeline/functionDeployer.ts',
      'schema checker': '@sinclair/typebox/build/esm/errors/',
      // The handlers' factories (the registry's definitions): only what builds a runnable hook needs them.
      handlers: 'shared/handlers/webhook',
      mustache: '/mustache/',
      'ipaddr.js': '/ipaddr.js/',
      'Lambda client': '@aws-sdk/client-lambda/',
      'event-stream codec': '/event-streams/',
    };
    const holds = (name: string) =>
      Object.entries(probes)
        .filter(([, part]) => bundles[name]?.inputs?.some((input) => input.includes(part)))
        .map(([probe]) => probe);
    expect(Object.fromEntries(Object.keys(DEFAULT_ENTRIES).map((name) => [name, holds(name)]))).toEqual({
      admin: ['admin routes', 'schema checker', 'handlers', 'mustache', 'ipaddr.js'],
      ingest: ['schema checker'],
      // ipaddr.js: the rules' `cidr` operator.
      dispatcher: ['dispatcher', 'ipaddr.js'],
      delivery: ['delivery worker', 'handlers', 'mustache', 'ipaddr.js'],
      deployer: ['deployer', 'Lambda client'],
      // Re-queues pending deploy jobs (requeuePendingDeployments) and lists user functions.
      sweeper: ['deployer', 'Lambda client'],
      authorizer: [],
    });
  });

  it('runs the whole path: admin creates a hook, ingest publishes, the dispatcher enqueues, delivery logs it', async () => {
    const health = await invoke('admin', httpEvent('GET', '/health'));
    expect(health.result).toMatchObject({ statusCode: 200 });

    const created = await invoke(
      'admin',
      httpEvent('POST', '/event-hooks', { source: 'balancer', event: 'health', handler: 'log' }),
    );
    expect(created.result.statusCode).toBe(201);
    const hook = JSON.parse(created.result.body) as { id: string };
    // The admin function emitted its own event_hooks change on the bus.
    expect(aws.calls.find((c) => c.target === 'AWSEvents.PutEvents')?.body).toMatchObject({
      Entries: [{ EventBusName: 'test-bus', Source: 'crud', DetailType: 'event_hooks' }],
    });

    const accepted = await invoke(
      'ingest',
      httpEvent('POST', '/events', { source: 'balancer', event: 'health', data: { upstream_id: 'u1' } }),
    );
    expect(accepted.result.statusCode).toBe(202);
    const put = aws.calls.filter((c) => c.target === 'AWSEvents.PutEvents').at(-1)!;
    expect(put.body).toMatchObject({
      Entries: [{ Source: 'balancer', DetailType: 'health', Detail: '{"upstream_id":"u1"}' }],
    });

    await invoke('dispatcher', {
      version: '0',
      id: 'event-1',
      'detail-type': 'health',
      source: 'balancer',
      account: '000000000000',
      time: '2026-11-27T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail: { upstream_id: 'u1' },
    });
    const sent = aws.calls.filter((c) => c.target === 'AmazonSQS.SendMessageBatch').at(-1)!;
    const entries = sent.body.Entries as { MessageBody: string }[];
    expect(entries).toHaveLength(1);
    const job = JSON.parse(entries[0]!.MessageBody) as DeliveryJob;
    expect(job).toMatchObject({
      type: 'deliver.v1',
      hookId: hook.id,
      attempt: 1,
      event: { id: 'event-1', source: 'balancer' },
    });

    const delivered = await invoke('delivery', {
      Records: [
        { messageId: 'm1', body: entries[0]!.MessageBody },
        { messageId: 'm2', body: 'not a job' },
      ],
    });
    expect(delivered.result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(delivered.logs.find((l) => l.message === 'event hook')).toMatchObject({
      hook_id: hook.id,
      data: { upstream_id: 'u1' },
    });
    expect(delivered.logs.find((l) => l.message === 'delivery')).toMatchObject({
      outcome: 'delivered',
      delivery_id: job.deliveryId,
      aws_request_id: 'test-request',
      cold_start: true,
    });
    expect(delivered.logs.find((l) => l.message === 'delivery message failed')).toMatchObject({
      aws_request_id: 'test-request',
    });
    // The invocation's metrics, as one CloudWatch EMF line per label set.
    expect(delivered.logs.find((l) => '_aws' in l && l.outcome === 'delivered')).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'EventHooks', Dimensions: [['handler', 'outcome']] }] },
      handler: 'log',
      event_hooks_deliveries_total: 1,
    });
  }, 60_000);

  it('seals a hook secret with KMS in the admin function and opens it in the delivery function, one KMS call each', async () => {
    // The hook's URL is on this machine (port 9: nothing listens), which AWS's default address policy refuses.
    const saved = env;
    env = { ...env, BLOCK_PRIVATE_NETWORKS: 'false' };
    try {
      const created = await invoke(
        'admin',
        httpEvent('POST', '/event-hooks', {
          source: 'balancer',
          event: 'health',
          handler: 'webhook',
          config: { url: 'http://127.0.0.1:9/x', secret: 'bundle-secret-31' },
        }),
      );
      expect(created.result.statusCode).toBe(201);
      const hook = JSON.parse(created.result.body) as { id: string; config: { secret: string } };
      expect(hook.config.secret).toBe('bundle-secret-31');
      const generate = aws.calls.filter((c) => c.target === 'TrentService.GenerateDataKey');
      expect(generate.map((c) => c.body)).toEqual([
        {
          KeyId: 'arn:aws:kms:us-east-1:000000000000:key/test',
          KeySpec: 'AES_256',
          EncryptionContext: { tenant: 'default', hook: hook.id },
        },
      ]);
      const { Item } = await store.client.send(
        new GetCommand({ TableName: store.tableName, Key: { pk: 'T#default#HOOK', sk: hook.id } }),
      );
      expect(JSON.parse(String(Item?.hookJson)).config.secret).toMatch(/^enc:kms1:/);
      expect(JSON.stringify(Item)).not.toContain('bundle-secret-31');

      // Another function (another execution environment) opens it: one Decrypt for the attempt.
      const job = {
        type: 'deliver.v1',
        deliveryId: 'd-kms',
        tenant: 'default',
        hookId: hook.id,
        attempt: 1,
        firstQueuedAt: Date.now(),
        event: {
          id: 'e-kms',
          time: new Date().toISOString(),
          tenant: 'default',
          source: 'balancer',
          event: 'health',
          data: {},
        },
      };
      const before = aws.calls.length;
      await invoke('delivery', { Records: [{ messageId: 'k1', body: JSON.stringify(job) }] });
      const decrypts = aws.calls.slice(before).filter((c) => c.target === 'TrentService.Decrypt');
      expect(decrypts.map((c) => c.body.EncryptionContext)).toEqual([{ tenant: 'default', hook: hook.id }]);
    } finally {
      env = saved;
    }
  }, 60_000);

  it('deploys user code off the request path: admin answers pending and queues a job, the deployer makes it active', async () => {
    const code = 'const suffix = await Promise.resolve("!"); return function (data) { return data + suffix }';
    const created = await invoke(
      'admin',
      httpEvent('POST', '/event-hooks', { source: 'crud', handler: 'lambda', config: { functions: [code] } }),
    );
    expect(created.result.statusCode).toBe(201);
    const hook = JSON.parse(created.result.body) as { id: string; deployment: unknown };
    expect(hook.deployment).toEqual({ state: 'pending' });
    // The admin request made no Lambda control-plane call, only queued the job.
    expect(aws.calls.some((c) => c.target.startsWith('POST /2015-03-31/functions'))).toBe(false);
    const queued = aws.calls.filter((c) => c.target === 'AmazonSQS.SendMessage').at(-1)!;
    expect(queued.body.QueueUrl).toBe(`${aws.url}/000000000000/deploy`);
    expect(JSON.parse(String(queued.body.MessageBody))).toEqual({
      type: 'deploy.v1',
      tenant: 'default',
      hookId: hook.id,
      remove: [],
    });

    const deployed = await invoke('deployer', {
      Records: [
        { messageId: 'd1', body: queued.body.MessageBody, attributes: { ApproximateReceiveCount: '1' } },
        { messageId: 'd2', body: 'not a job', attributes: { ApproximateReceiveCount: '1' } },
      ],
    });
    expect(deployed.result).toEqual({ batchItemFailures: [] });
    const created_ = aws.calls.filter((c) => c.target === 'POST /2015-03-31/functions');
    expect(created_).toHaveLength(1);
    expect(created_[0]!.body).toMatchObject({ Runtime: 'nodejs24.x', Tags: { 'event-hooks:hook-id': hook.id } });
    expect(aws.calls.some((c) => c.target.startsWith('GET /2015-03-31/functions/test-user-'))).toBe(true);

    const read = await invoke('admin', httpEvent('GET', `/event-hooks/${hook.id}`));
    expect(JSON.parse(read.result.body).deployment).toEqual({ state: 'active' });

    // The test route invokes the deployed function: a signed Invoke API call, not the SDK client.
    const tested = await invoke('admin', httpEvent('POST', `/event-hooks/${hook.id}/test`, { hello: 'world' }));
    expect(tested.result.statusCode).toBe(200);
    expect(JSON.parse(tested.result.body).result).toBe('from the stub');
    const invoked = aws.calls.filter((c) => c.target.endsWith('/invocations'));
    expect(invoked).toHaveLength(1);
    expect(invoked[0]!.target).toMatch(/^POST \/2015-03-31\/functions\/test-user-[0-9a-f]{16}-[0-9a-f]+\/invocations$/);
    expect(invoked[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\S+\/us-east-1\/lambda\/aws4_request, /);
    expect(invoked[0]!.body).toMatchObject({ data: { hello: 'world' } });
    expect(tested.logs.find((l) => l.message === 'user function log')).toMatchObject({
      hook_id: hook.id,
      log: 'invoked with Tail log',
    });

    // The sweeper finds the function in use (it was modified just now, so it is not even looked at).
    const swept = await invoke('sweeper', { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });
    expect(swept.result).toEqual({ seen: 1, deleted: [], requeued: 0 });
  }, 60_000);
  it('on an api-keys, multi-tenant deployment checks the authorizer’s principal and scopes, and drops events that skipped ingest', async () => {
    const keys = { AUTH_MODE: 'api-keys', TENANCY: 'multi' };
    const as = (event: ReturnType<typeof httpEvent>, lambda?: Record<string, string>) => ({
      ...event,
      headers: { ...event.headers, 'x-tenant': 'beta', authorization: 'Bearer forged' },
      requestContext: { ...event.requestContext, ...(lambda ? { authorizer: { lambda } } : {}) },
    });
    const hook = { source: 'balancer', event: 'health', handler: 'log' };

    // no authorizer context on a guarded route: refused, whatever the headers say
    const anonymous = await invoke('admin', as(httpEvent('POST', '/event-hooks', hook)), keys);
    expect(anonymous.result.statusCode).toBe(401);
    // a key the authorizer did not know (it lets the request through, marked): 401 in Kong's shape
    const unknown = { authenticated: 'false', tenant: '', scopes: '', keyId: '' };
    const unknownKey = await invoke('admin', as(httpEvent('POST', '/event-hooks', hook), unknown), keys);
    expect(unknownKey.result.statusCode).toBe(401);
    expect(JSON.parse(unknownKey.result.body)).toEqual({ message: 'Unauthorized' });
    // a read key cannot create
    const reader = { authenticated: 'true', tenant: 'acme', scopes: 'read', keyId: 'k-read' };
    const refused = await invoke('admin', as(httpEvent('POST', '/event-hooks', hook), reader), keys);
    expect(refused.result.statusCode).toBe(403);
    expect(JSON.parse(refused.result.body).message).toEqual(expect.any(String));
    // an admin key creates, and the read key of the same tenant reads it back
    const admin = { authenticated: 'true', tenant: 'acme', scopes: 'admin', keyId: 'k-admin' };
    const created = await invoke('admin', as(httpEvent('POST', '/event-hooks', hook), admin), keys);
    expect(created.result.statusCode).toBe(201);
    const { id } = JSON.parse(created.result.body) as { id: string };
    const read = await invoke('admin', as(httpEvent('GET', `/event-hooks/${id}`), reader), keys);
    expect(read.result.statusCode).toBe(200);
    expect((await invoke('admin', httpEvent('GET', '/health'), keys)).result.statusCode).toBe(200);

    // the dispatcher drops an event that did not come through ingest (no tenant resource)
    const sends = () => aws.calls.filter((c) => c.target === 'AmazonSQS.SendMessageBatch').length;
    const before = sends();
    const dropped = await invoke(
      'dispatcher',
      {
        version: '0',
        id: 'event-direct',
        'detail-type': 'health',
        source: 'balancer',
        account: '000000000000',
        time: '2026-11-29T00:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: {},
      },
      keys,
    );
    expect(sends()).toBe(before);
    expect(dropped.logs.some((l) => /without a tenant/.test(String(l.message)))).toBe(true);
  }, 60_000);
});
