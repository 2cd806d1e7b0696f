import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  ResourceConflictException,
  ResourceNotFoundException,
  ResourceNotReadyException,
  TooManyRequestsException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsFunctionRunner } from '../../../../shared/adapters/aws/functionRunner.ts';
import { packageUserFunction, userFunctionName } from '../../../../shared/adapters/aws/userFunctionPackage.ts';
import { EventHooksError, FunctionError } from '../../../../shared/errors.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';

const client = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const lambda = mockClient(client);
const PREFIX = 'eh-user';
const ROLE = 'arn:aws:iam::123456789012:role/eh-user-code';
const LOG_GROUP = '/event-hooks/eh/user-code';
const CODE_A = 'return function (data) { return "HELLO" }';
const CODE_B = 'return function (data) { return data + " WORLD" }';
const REFERENCE = 'arn:aws:lambda:us-east-1:123456789012:function:mine';
const nameOf = (index: number) => userFunctionName(PREFIX, 'acme', 'hook-1', index);
const meta = { $metadata: {} };
const conflict = () => new ResourceConflictException({ message: 'exists', ...meta });
const notFound = () => new ResourceNotFoundException({ message: 'no such function', ...meta });
const throttled = () => new TooManyRequestsException({ message: 'Rate exceeded', ...meta });
const ACTIVE = { State: 'Active', LastUpdateStatus: 'Successful' } as const;
/** What an existing, up-to-date function of CODE_A reports. */
const current = (code: string): FunctionConfiguration => ({
  ...ACTIVE,
  Role: ROLE,
  Runtime: 'nodejs24.x',
  Handler: 'index.handler',
  Timeout: 10,
  MemorySize: 128,
  Architectures: ['arm64' as const],
  LoggingConfig: { LogGroup: LOG_GROUP, LogFormat: 'JSON' as const },
  CodeSha256: packageUserFunction(code).sha256,
});

const calls = <T extends object>(command: new (input: never) => T) =>
  lambda.commandCalls(command as never).map((c) => (c.args[0] as { input: Record<string, unknown> }).input);

describe('createAwsFunctionRunner', () => {
  let clock: ManualClock;
  let sleeps: number[];
  const runner = (overrides: { readyTimeoutMs?: number; maxAttempts?: number } = {}) =>
    createAwsFunctionRunner({
      prefix: PREFIX,
      roleArn: ROLE,
      logGroup: LOG_GROUP,
      client,
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
      random: () => 0.5,
      ...overrides,
    });

  beforeEach(() => {
    lambda.reset();
    clock = new ManualClock(1_000_000);
    sleeps = [];
    // No stale functions unless a test says otherwise.
    lambda.on(DeleteFunctionCommand).rejects(notFound());
  });

  describe('deploy', () => {
    it('creates one function per code entry with the user-code role, arm64, nodejs24.x, tags and log group', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionConfigurationCommand).resolves(ACTIVE);

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, CODE_B] });

      // Assess
      const created = calls(CreateFunctionCommand);
      expect(created.map((c) => c.FunctionName)).toEqual([nameOf(0), nameOf(1)]);
      const { Code, ...settings } = created[0]!;
      expect(settings).toEqual({
        FunctionName: nameOf(0),
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Architectures: ['arm64'],
        Timeout: 10,
        MemorySize: 128,
        LoggingConfig: { LogFormat: 'JSON', LogGroup: LOG_GROUP },
        Description: 'event-hooks user code 0 of hook hook-1',
        Tags: { 'event-hooks:hook-id': 'hook-1', 'event-hooks:tenant': 'acme' },
      });
      expect(Buffer.from((Code as { ZipFile: Uint8Array }).ZipFile).equals(packageUserFunction(CODE_A).zip)).toBe(true);
      expect(nameOf(0)).toMatch(/^eh-user-[0-9a-f]{16}-0$/);
    });

    it('waits until a new function is Active before resolving', async () => {
      // Prepare: Pending twice, then Active
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda
        .on(GetFunctionConfigurationCommand)
        .resolvesOnce({ State: 'Pending', LastUpdateStatus: 'InProgress' })
        .resolvesOnce({ State: 'Pending', LastUpdateStatus: 'InProgress' })
        .resolves(ACTIVE);

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(GetFunctionConfigurationCommand)).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
    });

    it('gives up waiting without failing when the budget runs out, leaving invoke to retry', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionConfigurationCommand).resolves({ State: 'Pending' });

      // Act
      await runner({ readyTimeoutMs: 10_000 }).deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess: polled with growing waits until 10 s had passed on the injected clock
      expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
      expect(sleeps.length).toBeLessThan(20);
    });

    it('fails with the reason Lambda gives when a function ends up Failed', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionConfigurationCommand).resolves({ State: 'Failed', StateReason: 'role cannot be assumed' });

      // Act
      const deploying = runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      await expect(deploying).rejects.toThrow(/failed: role cannot be assumed/);
    });

    it('updates the code of an existing function when it changed', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda.on(GetFunctionConfigurationCommand).resolves(current(CODE_A));
      lambda.on(UpdateFunctionCodeCommand).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_B] });

      // Assess
      const updates = calls(UpdateFunctionCodeCommand);
      expect(updates).toHaveLength(1);
      expect(updates[0]!.FunctionName).toBe(nameOf(0));
      expect(updates[0]!.Architectures).toEqual(['arm64']);
      expect(Buffer.from(updates[0]!.ZipFile as Uint8Array).equals(packageUserFunction(CODE_B).zip)).toBe(true);
      expect(calls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    });

    it('makes no update call for a function whose code and settings already match', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda.on(GetFunctionConfigurationCommand).resolves(current(CODE_A));

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(UpdateFunctionCodeCommand)).toHaveLength(0);
      expect(calls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    });

    it('brings the settings of an existing function back to the deployment settings', async () => {
      // Prepare: the function has an old role and timeout
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda
        .on(GetFunctionConfigurationCommand)
        .resolves({ ...current(CODE_A), Role: 'arn:aws:iam::1:role/old', Timeout: 3 });
      lambda.on(UpdateFunctionConfigurationCommand).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(UpdateFunctionConfigurationCommand)).toEqual([
        {
          FunctionName: nameOf(0),
          Role: ROLE,
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          Timeout: 10,
          MemorySize: 128,
          LoggingConfig: { LogFormat: 'JSON', LogGroup: LOG_GROUP },
        },
      ]);
    });

    it('waits out an update in progress before updating again', async () => {
      // Prepare: the first update is refused because another one is running
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda.on(GetFunctionConfigurationCommand).resolves(current(CODE_A));
      lambda.on(UpdateFunctionCodeCommand).rejectsOnce(conflict()).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_B] });

      // Assess
      expect(calls(UpdateFunctionCodeCommand)).toHaveLength(2);
      expect(sleeps.length).toBeGreaterThanOrEqual(1);
    });

    it('backs off and retries when the control plane throttles', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ State: 'Pending' });
      lambda.on(GetFunctionConfigurationCommand).resolves(ACTIVE);

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess: two waits, the second longer
      expect(calls(CreateFunctionCommand)).toHaveLength(3);
      expect(sleeps).toHaveLength(2);
      expect(sleeps[1]!).toBeGreaterThan(sleeps[0]!);
    });

    it('stops retrying a throttled call after the last attempt', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).rejects(throttled());

      // Act
      const deploying = runner({ maxAttempts: 3 }).deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      await expect(deploying).rejects.toBeInstanceOf(EventHooksError);
      await expect(deploying).rejects.toThrow(/TooManyRequestsException/);
      expect(calls(CreateFunctionCommand)).toHaveLength(3);
    });

    it('creates nothing for a named function and deletes a code function that used its place', async () => {
      // Prepare: index 1 held code before
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionConfigurationCommand).resolves(ACTIVE);
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(1) }).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, REFERENCE] });

      // Assess
      expect(calls(CreateFunctionCommand).map((c) => c.FunctionName)).toEqual([nameOf(0)]);
      expect(calls(DeleteFunctionCommand).map((c) => c.FunctionName)).toContain(nameOf(1));
    });

    it('removes the functions of a pipeline that shrank, stopping after three missing in a row', async () => {
      // Prepare: the hook had 3 code functions, now has 1
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda.on(GetFunctionConfigurationCommand).resolves(current(CODE_A));
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(1) }).resolves({});
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(2) }).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(DeleteFunctionCommand).map((c) => c.FunctionName)).toEqual([
        nameOf(1),
        nameOf(2),
        nameOf(3),
        nameOf(4),
        nameOf(5),
      ]);
    });
  });

  describe('remove', () => {
    it('deletes every function of the hook and ignores the ones already gone', async () => {
      // Prepare: index 1 is a reference (no function), 0 and 2 exist
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(0) }).resolves({});
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(2) }).resolves({});

      // Act
      await runner().remove({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, REFERENCE, CODE_B] });

      // Assess
      expect(calls(DeleteFunctionCommand).map((c) => c.FunctionName)).toEqual([
        nameOf(0),
        nameOf(1),
        nameOf(2),
        nameOf(3),
        nameOf(4),
        nameOf(5),
      ]);
    });
  });

  describe('invoke', () => {
    const args = { data: { some: 'data' }, event: 'consumers', source: 'crud', pid: 7 };
    const payload = (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value)));

    it('calls the function of a code entry synchronously with the pipeline arguments', async () => {
      // Prepare
      lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ seen: true }) as never });

      // Act
      const result = await runner().invoke(
        { kind: 'code', tenant: 'acme', hookId: 'hook-1', index: 1, code: CODE_B },
        args,
      );

      // Assess
      expect(result).toEqual({ seen: true });
      const [input] = calls(InvokeCommand);
      expect(input!.FunctionName).toBe(nameOf(1));
      expect(input!.InvocationType).toBe('RequestResponse');
      expect(JSON.parse(Buffer.from(input!.Payload as Uint8Array).toString())).toEqual(args);
    });

    it('invokes a named function as it is', async () => {
      // Prepare
      lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload('HELLO') as never });

      // Act
      const result = await runner().invoke({ kind: 'lambda', name: REFERENCE }, args);

      // Assess
      expect(result).toBe('HELLO');
      expect(calls(InvokeCommand)[0]!.FunctionName).toBe(REFERENCE);
    });

    it('turns an error of the user code into a FunctionError with its message, not to be retried', async () => {
      // Prepare
      lambda.on(InvokeCommand).resolves({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({ errorType: 'Error', errorMessage: 'boom', trace: ['at x'] }) as never,
      });

      // Act
      const error = await runner()
        .invoke({ kind: 'lambda', name: 'mine' }, args)
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(FunctionError);
      expect((error as FunctionError).message).toBe('boom');
      expect((error as FunctionError).retryable).toBe(false);
    });

    it.each([
      ['a Pending function', () => new ResourceConflictException({ message: 'state: Pending', ...meta })],
      ['an Inactive function', () => new ResourceNotReadyException({ message: 'inactive', ...meta })],
      ['a throttled invoke', throttled],
      ['a code function not deployed yet', notFound],
      ['a network failure', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ])('makes %s a retryable FunctionError so the delivery is retried', async (_, error) => {
      // Prepare
      lambda.on(InvokeCommand).rejects(error());

      // Act
      const failure = await runner()
        .invoke({ kind: 'code', tenant: 'acme', hookId: 'hook-1', index: 0, code: CODE_A }, args)
        .catch((e: unknown) => e);

      // Assess
      expect(failure).toBeInstanceOf(FunctionError);
      expect((failure as FunctionError).retryable).toBe(true);
    });

    it.each([
      ['a named function that does not exist', notFound],
      ['a request Lambda refuses', () => new InvalidRequestContentException({ message: 'bad', ...meta })],
    ])('makes %s a FunctionError that is not retried', async (_, error) => {
      // Prepare
      lambda.on(InvokeCommand).rejects(error());

      // Act
      const failure = await runner()
        .invoke({ kind: 'lambda', name: 'missing' }, args)
        .catch((e: unknown) => e);

      // Assess
      expect(failure).toBeInstanceOf(FunctionError);
      expect((failure as FunctionError).retryable).toBe(false);
    });
  });
});
