import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsFunctionInvoker } from '../../../../shared/adapters/aws/functionInvoker.ts';
import { invokeTarget, lambdaInvokeHttpApi } from '../../../../shared/adapters/aws/lambdaInvokeApi.ts';
import { NodeSha256 } from '../../../../shared/adapters/aws/sigV4.ts';
import { userFunctionName } from '../../../../shared/adapters/aws/userFunctionPackage.ts';
import { FunctionError } from '../../../../shared/errors.ts';
import { memoryLogger } from '../../../../shared/logger.ts';

const PREFIX = 'eh-user';
const ROLE = 'arn:aws:iam::123456789012:role/eh-user-code';
const CODE_A = 'return function (data) { return "HELLO" }';
const REFERENCE = 'arn:aws:lambda:us-east-1:123456789012:function:mine';
const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-test' };
const nameOf = (index: number, code: string) =>
  userFunctionName(PREFIX, { tenant: 'acme', hookId: 'hook-1', index, code });
const codeTarget = { kind: 'code', tenant: 'acme', hookId: 'hook-1', index: 0, code: CODE_A } as const;
const args = { data: { some: 'data' }, event: 'consumers', source: 'crud', pid: 7 };

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Closes the connection without an answer. */
  hangUp?: boolean;
}
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A stand-in for Lambda's Invoke API on 127.0.0.1: answers the queued answers in order (then 200 with
 * `null`), and records each request as it came.
 */
function fakeInvokeApi() {
  const state = { answers: [] as Answer[], received: [] as Received[] };
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    state.received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const answer = state.answers.shift() ?? { body: null };
    if (answer.hangUp) {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  return { server, state };
}

/**
 * Signs the request again as Lambda would check it, with the same secret, date and signed headers:
 * the Authorization header it came with must be the one this yields.
 */
async function expectedAuthorization(received: Received, port: number): Promise<string> {
  const authorization = String(received.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
  const headers = Object.fromEntries(signedNames.map((name) => [name, String(received.headers[name])]));
  const url = new URL(received.url, `http://127.0.0.1:${port}`);
  const amzDate = String(received.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials: CREDENTIALS,
    region: 'us-east-1',
    service: 'lambda',
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: received.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: received.body,
    },
    { signingDate },
  );
  return String(signed.headers.authorization);
}

describe('createAwsFunctionInvoker: the Lambda Invoke API as a signed HTTP call', () => {
  const api = fakeInvokeApi();
  let endpoint: string;
  let port: number;
  let sleeps: number[];

  beforeAll(async () => {
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    port = (api.server.address() as AddressInfo).port;
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));
  beforeEach(() => {
    api.state.answers.length = 0;
    api.state.received.length = 0;
    sleeps = [];
  });

  const invoker = (logger = memoryLogger()) =>
    createAwsFunctionInvoker({
      prefix: PREFIX,
      roleArn: ROLE,
      logger,
      invokeApi: lambdaInvokeHttpApi({ endpoint, region: 'us-east-1', credentials: CREDENTIALS }),
      retry: {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });

  it('calls the function of a code entry synchronously, with the log tail, signed with SigV4', async () => {
    // Prepare
    api.state.answers.push({ body: { seen: true } });

    // Act
    const result = await invoker().invoke({ ...codeTarget, index: 1 }, args);

    // Assess
    expect(result).toEqual({ seen: true });
    const [request] = api.state.received;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe(`/2015-03-31/functions/${nameOf(1, CODE_A)}/invocations`);
    expect(request!.headers['x-amz-invocation-type']).toBe('RequestResponse');
    expect(request!.headers['x-amz-log-type']).toBe('Tail');
    expect(JSON.parse(request!.body)).toEqual(args);
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=.*host.*x-amz-date.*x-amz-invocation-type;x-amz-log-type, Signature=[0-9a-f]{64}$/,
    );
    expect(request!.headers.authorization).toBe(await expectedAuthorization(request!, port));
  });

  it('sends a named function’s version or alias as the Qualifier, signed too, and the ARN encoded', async () => {
    // Act
    const result = await invoker().invoke({ kind: 'lambda', name: `${REFERENCE}:prod` }, args);

    // Assess
    expect(result).toBeNull();
    const [request] = api.state.received;
    expect(request!.url).toBe(
      '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amine/invocations?Qualifier=prod',
    );
    expect(request!.headers.authorization).toBe(await expectedAuthorization(request!, port));
  });

  it('splits references into function and qualifier as the Invoke API takes them', () => {
    expect(invokeTarget('mine')).toEqual({ functionName: 'mine' });
    expect(invokeTarget('mine:$LATEST')).toEqual({ functionName: 'mine', qualifier: '$LATEST' });
    expect(invokeTarget(REFERENCE)).toEqual({ functionName: REFERENCE });
    expect(invokeTarget(`${REFERENCE}:7`)).toEqual({ functionName: REFERENCE, qualifier: '7' });
  });

  it('decodes the log tail and writes it to the service log under the tenant, secrets masked', async () => {
    // Prepare: the user function logged a key it was given; its role could not write a log of its own
    const tail = 'START RequestId: r1\nusing Authorization: Bearer eh_tenant_key_123\nEND RequestId: r1\n';
    api.state.answers.push({ body: 'ok', headers: { 'x-amz-log-result': Buffer.from(tail).toString('base64') } });
    const logger = memoryLogger();

    // Act
    const result = await invoker(logger).invoke(codeTarget, args);

    // Assess
    expect(result).toBe('ok');
    const lines = logger.lines.filter((line) => line.message === 'user function log');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ tenant: 'acme', hook_id: 'hook-1', function_name: nameOf(0, CODE_A) });
    expect(String(lines[0]!.log)).toContain('START RequestId: r1');
    expect(String(lines[0]!.log)).toContain('using Authorization: [redacted]');
    expect(JSON.stringify(logger.lines)).not.toContain('eh_tenant_key_123');
  });

  it('writes no tail line for a named function, or when Lambda returned no tail', async () => {
    api.state.answers.push(
      { body: 'ok', headers: { 'x-amz-log-result': Buffer.from('theirs').toString('base64') } },
      { body: 'ok' },
    );
    const logger = memoryLogger();
    const runner = invoker(logger);
    await runner.invoke({ kind: 'lambda', name: REFERENCE }, args);
    await runner.invoke(codeTarget, args);
    expect(api.state.received).toHaveLength(2);
    expect(logger.lines.filter((line) => line.message === 'user function log')).toEqual([]);
  });

  it('refuses to invoke, by name or ARN, a function it deployed for user code', async () => {
    const byName = invoker().invoke({ kind: 'lambda', name: `${PREFIX}-0123456789abcdef-0123` }, args);
    const byArn = invoker().invoke(
      { kind: 'lambda', name: `arn:aws:lambda:us-east-1:123456789012:function:${PREFIX}-0123456789abcdef-0123` },
      args,
    );
    await expect(byName).rejects.toMatchObject({ name: 'FunctionError', retryable: false });
    await expect(byArn).rejects.toThrow(/deploys for user code/);
    expect(api.state.received).toHaveLength(0);
  });

  it('turns an error of the user code (X-Amz-Function-Error) into a FunctionError with its message, not retried', async () => {
    // Prepare
    const tail = Buffer.from('ERROR boom').toString('base64');
    api.state.answers.push({
      headers: { 'x-amz-function-error': 'Unhandled', 'x-amz-log-result': tail },
      body: { errorType: 'Error', errorMessage: 'boom', trace: ['at x'] },
    });
    const logger = memoryLogger();

    // Act
    const error = await invoker(logger)
      .invoke(codeTarget, args)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(FunctionError);
    expect((error as FunctionError).message).toBe('boom');
    expect((error as FunctionError).retryable).toBe(false);
    expect(api.state.received).toHaveLength(1);
    const [line] = logger.lines.filter((l) => l.message === 'user function log');
    expect(line).toMatchObject({ function_error: 'Unhandled', log: 'ERROR boom' });
  });

  it('names a function failure without an error message after its kind', async () => {
    api.state.answers.push({ headers: { 'x-amz-function-error': 'Unhandled' }, body: 'not json' });
    await expect(invoker().invoke({ kind: 'lambda', name: 'mine' }, args)).rejects.toThrow(
      'function mine failed (Unhandled)',
    );
  });

  it('retries a throttled invocation with backoff, as the SDK client did, and returns its result', async () => {
    // Prepare
    api.state.answers.push(
      {
        status: 429,
        headers: { 'x-amzn-errortype': 'TooManyRequestsException' },
        body: { Type: 'User', message: 'Rate exceeded' },
      },
      { body: 'HELLO' },
    );

    // Act
    const result = await invoker().invoke(codeTarget, args);

    // Assess
    expect(result).toBe('HELLO');
    expect(api.state.received).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(250);
  });

  it('gives up after 3 attempts, with a retryable FunctionError naming the exception', async () => {
    // Prepare: the header as Lambda sends it, with a URL after the name
    const throttle = {
      status: 429,
      headers: { 'x-amzn-errortype': 'TooManyRequestsException:http://internal.amazon.com/coral/com.amazon/' },
      body: { Type: 'User', message: 'Rate exceeded', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
    };
    api.state.answers.push(throttle, throttle, throttle, { body: 'never asked' });

    // Act
    const failure = await invoker()
      .invoke(codeTarget, args)
      .catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(FunctionError);
    expect((failure as FunctionError).message).toBe(`could not invoke ${nameOf(0, CODE_A)}: TooManyRequestsException`);
    expect((failure as FunctionError).retryable).toBe(true);
    expect(api.state.received).toHaveLength(3);
  });

  const error = (status: number, name: string): Answer => ({
    status,
    headers: { 'x-amzn-errortype': name },
    body: { Type: 'User', message: name },
  });

  it.each([
    ['a Pending function', [error(409, 'ResourceConflictException')], 1],
    [
      'an Inactive function',
      [
        error(502, 'ResourceNotReadyException'),
        error(502, 'ResourceNotReadyException'),
        error(502, 'ResourceNotReadyException'),
      ],
      3,
    ],
    ['a code function not deployed yet', [error(404, 'ResourceNotFoundException')], 1],
    [
      'a failing service',
      [error(500, 'ServiceException'), error(500, 'ServiceException'), error(500, 'ServiceException')],
      3,
    ],
    ['a network failure', [{ hangUp: true }, { hangUp: true }, { hangUp: true }], 3],
  ] as [string, Answer[], number][])(
    'makes %s a retryable FunctionError so the delivery is retried',
    async (_, answers, attempts) => {
      // Prepare
      api.state.answers.push(...answers);

      // Act
      const failure = await invoker()
        .invoke(codeTarget, args)
        .catch((e: unknown) => e);

      // Assess
      expect(failure).toBeInstanceOf(FunctionError);
      expect((failure as FunctionError).retryable).toBe(true);
      expect(api.state.received).toHaveLength(attempts);
    },
  );

  it.each([
    ['a named function that does not exist', error(404, 'ResourceNotFoundException')],
    ['a request Lambda refuses', error(400, 'InvalidRequestContentException')],
    ['a denied invocation', error(403, 'AccessDeniedException')],
  ])('makes %s a FunctionError that is not retried', async (_, answer) => {
    // Prepare
    api.state.answers.push(answer);

    // Act
    const failure = await invoker()
      .invoke({ kind: 'lambda', name: 'missing' }, args)
      .catch((e: unknown) => e);

    // Assess
    expect(failure).toBeInstanceOf(FunctionError);
    expect((failure as FunctionError).retryable).toBe(false);
    expect((failure as FunctionError).message).toContain(
      (answer.headers as Record<string, string>)['x-amzn-errortype'],
    );
    expect(api.state.received).toHaveLength(1);
  });

  it('reads the exception from the body’s __type or code when the header is missing', async () => {
    api.state.answers.push(
      { status: 404, body: { __type: 'com.amazonaws.lambda#ResourceNotFoundException', message: 'gone' } },
      { status: 400, body: { code: 'InvalidParameterValueException', message: 'bad' } },
      { status: 400, body: '<html>proxy</html>' },
    );
    const runner = invoker();
    const messages = [];
    for (let i = 0; i < 3; i++) {
      messages.push(
        await runner.invoke({ kind: 'lambda', name: 'missing' }, args).catch((e: unknown) => (e as Error).message),
      );
    }
    expect(messages).toEqual([
      'could not invoke missing: ResourceNotFoundException',
      'could not invoke missing: InvalidParameterValueException',
      'could not invoke missing: LambdaHttp400',
    ]);
  });

  it('finds the endpoint in the endpoint option (LAMBDA_ENDPOINT), else AWS_ENDPOINT_URL_LAMBDA', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      AWS_REGION: 'us-east-1',
    });
    try {
      await createAwsFunctionInvoker({ prefix: PREFIX, roleArn: ROLE, endpoint }).invoke(
        { kind: 'lambda', name: 'a' },
        args,
      );
      process.env.AWS_ENDPOINT_URL_LAMBDA = endpoint;
      await createAwsFunctionInvoker({ prefix: PREFIX, roleArn: ROLE }).invoke({ kind: 'lambda', name: 'b' }, args);
    } finally {
      process.env = saved;
    }
    expect(api.state.received.map((r) => r.url)).toEqual([
      '/2015-03-31/functions/a/invocations',
      '/2015-03-31/functions/b/invocations',
    ]);
    expect(api.state.received[1]!.headers.authorization).toBe(
      await expectedAuthorization(api.state.received[1]!, port),
    );
  });

  it('cannot deploy or remove: only the deploy worker does', async () => {
    const hook = { tenant: 'acme', id: 'hook-1', functions: [CODE_A] };
    await expect(invoker().deploy(hook)).rejects.toThrow(/only the deploy worker deploys/);
    await expect(invoker().remove(hook)).rejects.toThrow(/only the deploy worker deploys/);
  });
});
