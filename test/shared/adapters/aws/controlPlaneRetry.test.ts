import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { controlPlaneClient, createAwsFunctionRunner } from '../../../../shared/adapters/aws/functionRunner.ts';
import { packageUserFunction } from '../../../../shared/adapters/aws/userFunctionPackage.ts';
import { EventHooksError } from '../../../../shared/errors.ts';

/**
 * A stand-in for Lambda's control-plane REST API on 127.0.0.1, so the real SDK client runs its own
 * retry and waiter code: CreateFunction answers 429 `TooManyRequestsException` for the first
 * `throttle` calls, GetFunction reports `Pending` for the first `pending` polls, then `Active`.
 */
function fakeLambdaApi() {
  const state = { throttle: 0, pending: 0, requests: [] as string[] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const route = `${req.method} ${req.url?.split('?')[0]}`;
      state.requests.push(route);
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/2015-03-31/functions') {
        if (state.throttle > 0) {
          state.throttle--;
          return json(
            429,
            { Type: 'User', message: 'Rate exceeded', Reason: 'CallerRateLimitExceeded' },
            { 'x-amzn-errortype': 'TooManyRequestsException' },
          );
        }
        const { FunctionName } = JSON.parse(body) as { FunctionName: string };
        return json(201, { FunctionName, State: 'Pending' });
      }
      if (req.method === 'GET' && req.url?.startsWith('/2015-03-31/functions/')) {
        const State = state.pending > 0 ? 'Pending' : 'Active';
        if (state.pending > 0) state.pending--;
        return json(200, { Configuration: { State, LastUpdateStatus: 'Successful' } });
      }
      json(404, { message: `no route ${route}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
    });
  });
  return { server, state };
}

describe('the control-plane client: the SDK’s own retry and waiters against a throttling Lambda API', () => {
  const api = fakeLambdaApi();
  let endpoint: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));
  beforeEach(() => {
    api.state.requests.length = 0;
  });

  const runner = (maxAttempts?: number) =>
    createAwsFunctionRunner({
      prefix: 'eh-user',
      roleArn: 'arn:aws:iam::123456789012:role/eh-user-code',
      client: controlPlaneClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        ...(maxAttempts ? { maxAttempts } : {}),
      }),
      packageCode: (code) => packageUserFunction(code).zip,
      waiter: { minDelaySeconds: 0.01, maxDelaySeconds: 0.05, maxWaitSeconds: 5 },
    });

  it('retries a throttled CreateFunction itself, then waits for Active with the SDK waiter', async () => {
    // Prepare
    api.state.throttle = 2;
    api.state.pending = 2;

    // Act
    await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: ['return () => 1'] });

    // Assess: three CreateFunction requests (two throttled), then three polls (Pending, Pending, Active)
    expect(api.state.requests).toEqual([
      'POST /2015-03-31/functions',
      'POST /2015-03-31/functions',
      'POST /2015-03-31/functions',
      ...Array(3).fill(expect.stringMatching(/^GET \/2015-03-31\/functions\/eh-user-/)),
    ]);
  });

  it('gives up after the configured attempts with an error naming the throttling', async () => {
    // Prepare
    api.state.throttle = 100;

    // Act
    const deploying = runner(3).deploy({ tenant: 'acme', id: 'hook-1', functions: ['return () => 2'] });

    // Assess
    await expect(deploying).rejects.toBeInstanceOf(EventHooksError);
    await expect(deploying).rejects.toThrow(/TooManyRequestsException/);
    expect(api.state.requests).toHaveLength(3);
    api.state.throttle = 0;
  });
});
