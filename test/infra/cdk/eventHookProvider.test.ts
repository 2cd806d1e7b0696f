import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderDeps, respond } from '../../../infra/cdk/eventHookProvider.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One HTTP server on 127.0.0.1 answering with `answer`, recording every request. */
async function standIn(answer: (r: Recorded, res: ServerResponse) => void) {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const SECRETS: Record<string, string> = {
  'arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook-AbCdEf': 'hunter2',
  'arn:aws:secretsmanager:eu-west-1:111122223333:secret:key-123456': JSON.stringify({ key: 'the-api-key' }),
};

describe('the EventHook provider, against stand-ins of Secrets Manager and CloudFormation and the local runtime', () => {
  let t: TestRuntime;
  let secrets: Awaited<ReturnType<typeof standIn>>;
  let cfn: Awaited<ReturnType<typeof standIn>>;
  let deps: ProviderDeps;

  beforeAll(async () => {
    t = await startTestRuntime();
    // Secrets Manager's JSON protocol: GetSecretValue, SigV4-signed, errors as `__type`.
    secrets = await standIn((r, res) => {
      const arn = (JSON.parse(r.body) as { SecretId: string }).SecretId;
      const value = SECRETS[arn];
      if (r.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', Message: 'no such secret' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: arn, SecretString: value }));
    });
    cfn = await standIn((_r, res) => res.writeHead(200).end());
    deps = {
      fetch,
      region: 'eu-west-1',
      secretsManagerUrl: `${secrets.url}/`,
      credentials: async () => ({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      }),
      timeoutMs: 5_000,
    };
  });
  afterAll(async () => {
    await t.close();
    await secrets.close();
    await cfn.close();
  });

  let request = 0;
  function event(
    type: 'Create' | 'Update' | 'Delete',
    props: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): CloudFormationCustomResourceEvent {
    request++;
    return {
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:provider',
      ResponseURL: `${cfn.url}/response/${request}?X-Amz-Signature=abc`,
      StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Users/1',
      RequestId: `request-${request}`,
      LogicalResourceId: 'ConsumersResource',
      ResourceType: 'Custom::EventHook',
      ResourceProperties: { ServiceToken: 'x', ...props },
      ...extra,
    } as CloudFormationCustomResourceEvent;
  }

  /** What the provider answered CloudFormation for the last event. */
  const answer = () => {
    const last = cfn.requests.at(-1) as Recorded;
    expect(last.method).toBe('PUT');
    expect(last.path).toBe(`/response/${request}?X-Amz-Signature=abc`);
    return JSON.parse(last.body) as {
      Status: string;
      Reason: string;
      PhysicalResourceId: string;
      Data: { HookId?: string };
    };
  };

  // The webhook's `config.secret`; the log hooks have no secret.
  const SECRET_REFS = JSON.stringify([
    { path: 'config.secret', arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook-AbCdEf' },
  ]);
  const props = (hook: Record<string, unknown>) => ({
    ...(hook.handler === 'webhook' ? { Secrets: SECRET_REFS } : {}),
    ServiceUrl: t.runtime.url,
    Auth: JSON.stringify({
      type: 'api-key',
      secret: { arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:key-123456', field: 'key' },
    }),
    Hook: JSON.stringify(hook),
  });
  const webhook = {
    source: 'crud',
    event: 'consumers',
    handler: 'webhook',
    config: { url: 'http://127.0.0.1:9/hook' },
  };

  it('creates, updates and deletes the hook as the stack changes, reading its secret at deploy time', async () => {
    await respond(event('Create', props(webhook)), deps);
    const created = answer();
    expect(created).toMatchObject({ Status: 'SUCCESS', Data: { HookId: created.PhysicalResourceId } });
    const id = created.PhysicalResourceId;
    const stored = await t.request('GET', `/event-hooks/${id}`);
    expect(stored.body).toMatchObject({ source: 'crud', event: 'consumers', config: { secret: 'hunter2' } });
    // The API key and the hook secret were read, each with a SigV4-signed GetSecretValue.
    expect(secrets.requests.map((r) => JSON.parse(r.body).SecretId)).toEqual([
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:hook-AbCdEf',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:key-123456',
    ]);
    expect(secrets.requests.at(-1)?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );

    await respond(
      event('Update', props({ ...webhook, snooze: 30 }), {
        PhysicalResourceId: id,
        OldResourceProperties: props(webhook),
      }),
      deps,
    );
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect((await t.request('GET', `/event-hooks/${id}`)).body).toMatchObject({
      snooze: 30,
      created_at: stored.body.created_at,
      config: { secret: 'hunter2' },
    });

    await respond(event('Delete', props(webhook), { PhysicalResourceId: id }), deps);
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect((await t.request('GET', `/event-hooks/${id}`)).status).toBe(404);
  });

  it('makes a new hook when the service URL changes, so CloudFormation deletes the old one', async () => {
    await respond(event('Create', props({ source: 'crud', handler: 'log' })), deps);
    const first = answer().PhysicalResourceId;
    const moved = { ...props({ source: 'crud', handler: 'log' }), ServiceUrl: `${t.runtime.url}/` };
    await respond(
      event('Update', moved, {
        PhysicalResourceId: first,
        OldResourceProperties: props({ source: 'crud', handler: 'log' }),
      }),
      deps,
    );
    const second = answer();
    expect(second.Status).toBe('SUCCESS');
    expect(second.PhysicalResourceId).not.toBe(first);
  });

  it('fixes the id when the construct gives one', async () => {
    const id = '7c0b5a1f-4d2e-4f30-8b9c-0d1e2f3a4b5c';
    await respond(event('Create', { ...props({ source: 'crud', handler: 'log' }), HookId: id }), deps);
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect((await t.request('GET', `/event-hooks/${id}`)).status).toBe(200);
  });

  it('fails with Kong’s message when the service refuses the hook, and a delete of that failed create does nothing', async () => {
    await respond(event('Create', props({ source: 'crud', event: 'nope', handler: 'log' })), deps);
    const failed = answer();
    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(/^POST \/event-hooks: 400 schema violation .*source 'crud' has no 'nope' event/);
    expect(failed.PhysicalResourceId).toMatch(/^failed-request-/);
    const before = cfn.requests.length;
    await respond(
      event('Delete', props({ source: 'crud', handler: 'log' }), { PhysicalResourceId: failed.PhysicalResourceId }),
      deps,
    );
    expect(answer()).toMatchObject({ Status: 'SUCCESS' });
    expect(cfn.requests.length).toBe(before + 1);
  });

  it('fails naming the secret, never its value, when a secret cannot be read', async () => {
    const missing = {
      ...props(webhook),
      Secrets: JSON.stringify([
        { path: 'config.secret', arn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:gone-XyZ123' },
      ]),
    };
    await respond(event('Create', missing), deps);
    expect(answer()).toMatchObject({
      Status: 'FAILED',
      Reason:
        'reading secret arn:aws:secretsmanager:eu-west-1:111122223333:secret:gone-XyZ123: 400 ResourceNotFoundException',
    });
  });

  it('signs with SigV4 for execute-api under IAM auth, and treats a 404 on delete as success', async () => {
    const api = await standIn((r, res) => {
      if (r.method === 'DELETE')
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not found"}');
      else
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id: '8d1c6b2a-5e3f-4a41-9cad-1e2f3a4b5c6d' }));
    });
    try {
      const iam = {
        ServiceUrl: api.url,
        Auth: JSON.stringify({ type: 'iam', region: 'eu-west-1' }),
        Hook: JSON.stringify({ source: 'crud', handler: 'log' }),
      };
      await respond(event('Create', iam), deps);
      expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: '8d1c6b2a-5e3f-4a41-9cad-1e2f3a4b5c6d' });
      const create = api.requests[0] as Recorded;
      expect(create).toMatchObject({ method: 'POST', path: '/event-hooks' });
      expect(create.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
      );
      expect(create.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      await respond(event('Delete', iam, { PhysicalResourceId: '8d1c6b2a-5e3f-4a41-9cad-1e2f3a4b5c6d' }), deps);
      expect(answer()).toMatchObject({ Status: 'SUCCESS' });
      expect(api.requests.at(-1)).toMatchObject({
        method: 'DELETE',
        path: '/event-hooks/8d1c6b2a-5e3f-4a41-9cad-1e2f3a4b5c6d',
      });
    } finally {
      await api.close();
    }
  });
});
