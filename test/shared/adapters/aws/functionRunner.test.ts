import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  LambdaClient,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsFunctionRunner } from '../../../../shared/adapters/aws/functionRunner.ts';
import { packageUserFunction, userFunctionName } from '../../../../shared/adapters/aws/userFunctionPackage.ts';

const client = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const lambda = mockClient(client);
const PREFIX = 'eh-user';
const ROLE = 'arn:aws:iam::123456789012:role/eh-user-code';
const LOG_GROUP = '/event-hooks/eh/user-code';
const CODE_A = 'return function (data) { return "HELLO" }';
const CODE_B = 'return function (data) { return data + " WORLD" }';
const REFERENCE = 'arn:aws:lambda:us-east-1:123456789012:function:mine';
const nameOf = (index: number, code: string) =>
  userFunctionName(PREFIX, { tenant: 'acme', hookId: 'hook-1', index, code });
const meta = { $metadata: {} };
const conflict = () => new ResourceConflictException({ message: 'exists', ...meta });
const notFound = () => new ResourceNotFoundException({ message: 'no such function', ...meta });
const ACTIVE = { State: 'Active', LastUpdateStatus: 'Successful' } as const;
/** What an existing function of `code` with the deployment's settings reports. */
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
  const runner = (overrides: { maxWaitSeconds?: number } = {}) =>
    createAwsFunctionRunner({
      prefix: PREFIX,
      roleArn: ROLE,
      logGroup: LOG_GROUP,
      client,
      packageCode: (code) => packageUserFunction(code).zip,
      // The SDK's waiters, polling every few milliseconds instead of seconds.
      waiter: { minDelaySeconds: 0.005, maxDelaySeconds: 0.02, maxWaitSeconds: overrides.maxWaitSeconds ?? 5 },
    });

  beforeEach(() => {
    lambda.reset();
  });

  describe('deploy', () => {
    it('creates one function per code entry with the user-code role, arm64, nodejs24.x, tags and log group', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionCommand).resolves({ Configuration: ACTIVE });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, CODE_B] });

      // Assess
      const created = calls(CreateFunctionCommand);
      expect(created.map((c) => c.FunctionName)).toEqual([nameOf(0, CODE_A), nameOf(1, CODE_B)]);
      const { Code, ...settings } = created[0]!;
      expect(settings).toEqual({
        FunctionName: nameOf(0, CODE_A),
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
      expect(nameOf(0, CODE_A)).toMatch(/^eh-user-[0-9a-f]{16}-[0-9a-f]{16}$/);
    });

    it('gives changed code a function of its own and leaves the function of the old code alone', async () => {
      // Prepare: the hook had CODE_A at index 0; its new version has CODE_B there
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionCommand).resolves({ Configuration: ACTIVE });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_B] });

      // Assess: a new name, and not a single call about any other function
      expect(nameOf(0, CODE_B)).not.toBe(nameOf(0, CODE_A));
      const touched = lambda.calls().map((c) => (c.args[0] as { input: { FunctionName?: string } }).input.FunctionName);
      expect(new Set(touched)).toEqual(new Set([nameOf(0, CODE_B)]));
      expect(calls(DeleteFunctionCommand)).toHaveLength(0);
      expect(calls(UpdateFunctionCodeCommand)).toHaveLength(0);
    });

    it('waits with the SDK waiter until a new function is Active before resolving', async () => {
      // Prepare: Pending twice, then Active
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda
        .on(GetFunctionCommand)
        .resolvesOnce({ Configuration: { State: 'Pending', LastUpdateStatus: 'InProgress' } })
        .resolvesOnce({ Configuration: { State: 'Pending', LastUpdateStatus: 'InProgress' } })
        .resolves({ Configuration: ACTIVE });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(GetFunctionCommand)).toHaveLength(3);
    });

    it('fails, for the deploy job to come back, when the function is not Active in time', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionCommand).resolves({ Configuration: { State: 'Pending' } });

      // Act
      const deploying = runner({ maxWaitSeconds: 0.2 }).deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      await expect(deploying).rejects.toThrow(/could not deploy Lambda function .*TimeoutError/);
    });

    it('fails with the reason Lambda gives when a function ends up Failed', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda
        .on(GetFunctionCommand)
        .resolves({ Configuration: { State: 'Failed', StateReason: 'role cannot be assumed' } });

      // Act
      const deploying = runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      await expect(deploying).rejects.toThrow(/failed: role cannot be assumed/);
    });

    it('makes no update call for an existing function whose settings match: its name says it has this code', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda.on(GetFunctionCommand).resolves({ Configuration: current(CODE_A) });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(GetFunctionCommand).map((c) => c.FunctionName)).toEqual([nameOf(0, CODE_A)]);
      expect(calls(UpdateFunctionCodeCommand)).toHaveLength(0);
      expect(calls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    });

    it('waits for an existing function that another deploy is still creating', async () => {
      // Prepare: a concurrent job for the same code created it a moment ago
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda
        .on(GetFunctionCommand)
        .resolvesOnce({ Configuration: { ...current(CODE_A), State: 'Pending', LastUpdateStatus: 'InProgress' } })
        .resolves({ Configuration: current(CODE_A) });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(GetFunctionCommand)).toHaveLength(2);
      expect(calls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    });

    it('brings the settings of an existing function back to the deployment settings, never its code', async () => {
      // Prepare: the function has an old role and timeout
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda
        .on(GetFunctionCommand)
        .resolves({ Configuration: { ...current(CODE_A), Role: 'arn:aws:iam::1:role/old', Timeout: 3 } });
      lambda.on(UpdateFunctionConfigurationCommand).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess
      expect(calls(UpdateFunctionConfigurationCommand)).toEqual([
        {
          FunctionName: nameOf(0, CODE_A),
          Role: ROLE,
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          Timeout: 10,
          MemorySize: 128,
          LoggingConfig: { LogFormat: 'JSON', LogGroup: LOG_GROUP },
        },
      ]);
      expect(calls(UpdateFunctionCodeCommand)).toHaveLength(0);
    });

    it('waits out an update in progress (the SDK waiter) before updating the settings', async () => {
      // Prepare: Active, but another update of its settings is still running
      const busy = { ...current(CODE_A), MemorySize: 256, LastUpdateStatus: 'InProgress' as const };
      lambda.on(CreateFunctionCommand).rejects(conflict());
      lambda
        .on(GetFunctionCommand)
        .resolvesOnce({ Configuration: busy })
        .resolvesOnce({ Configuration: busy })
        .resolves({ Configuration: { ...busy, LastUpdateStatus: 'Successful' } });
      lambda.on(UpdateFunctionConfigurationCommand).resolves({});

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [CODE_A] });

      // Assess: polled until Successful, then one update, then polled once more
      expect(calls(UpdateFunctionConfigurationCommand)).toHaveLength(1);
      expect(calls(GetFunctionCommand)).toHaveLength(4);
    });

    it('creates nothing for a named function or a left-out entry, and deletes nothing', async () => {
      // Prepare
      lambda.on(CreateFunctionCommand).resolves({ State: 'Pending' });
      lambda.on(GetFunctionCommand).resolves({ Configuration: ACTIVE });

      // Act
      await runner().deploy({ tenant: 'acme', id: 'hook-1', functions: [null, REFERENCE, CODE_B] });

      // Assess
      expect(calls(CreateFunctionCommand).map((c) => c.FunctionName)).toEqual([nameOf(2, CODE_B)]);
      expect(calls(DeleteFunctionCommand)).toHaveLength(0);
    });
  });

  describe('remove', () => {
    it('deletes exactly the functions of the given code entries, never a named function', async () => {
      // Prepare: index 0 is left out, index 1 names an existing function
      lambda.on(DeleteFunctionCommand).resolves({});

      // Act
      await runner().remove({ tenant: 'acme', id: 'hook-1', functions: [null, REFERENCE, CODE_B, CODE_A] });

      // Assess
      expect(calls(DeleteFunctionCommand).map((c) => c.FunctionName)).toEqual([nameOf(2, CODE_B), nameOf(3, CODE_A)]);
    });

    it('ignores a function that is already gone', async () => {
      // Prepare
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(0, CODE_A) }).rejects(notFound());
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(1, CODE_B) }).resolves({});

      // Act
      await runner().remove({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, CODE_B] });

      // Assess
      expect(calls(DeleteFunctionCommand)).toHaveLength(2);
    });

    it('fails when a function cannot be deleted, after trying the others', async () => {
      // Prepare
      const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(0, CODE_A) }).rejects(denied);
      lambda.on(DeleteFunctionCommand, { FunctionName: nameOf(1, CODE_B) }).resolves({});

      // Act
      const removing = runner().remove({ tenant: 'acme', id: 'hook-1', functions: [CODE_A, CODE_B] });

      // Assess
      await expect(removing).rejects.toThrow(/could not delete Lambda function .*AccessDeniedException/);
      expect(calls(DeleteFunctionCommand).map((c) => c.FunctionName)).toContain(nameOf(1, CODE_B));
    });
  });

  describe('invoke', () => {
    it('invokes through the Invoke API (a signed HTTP call: functionInvoker.test.ts), never the SDK client', async () => {
      // Prepare
      const invoked: string[] = [];
      const withApi = createAwsFunctionRunner({
        prefix: PREFIX,
        roleArn: ROLE,
        client,
        invokeApi: {
          invoke: async (name, payload) => {
            invoked.push(name);
            return { payload: Buffer.from(payload) };
          },
        },
      });

      // Act
      const result = await withApi.invoke({ kind: 'lambda', name: REFERENCE }, { data: 1 } as never);

      // Assess
      expect(result).toEqual({ data: 1 });
      expect(invoked).toEqual([REFERENCE]);
      expect(lambda.calls()).toHaveLength(0);
    });
  });
});
