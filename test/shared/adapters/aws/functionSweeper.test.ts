import {
  DeleteFunctionCommand,
  type FunctionConfiguration,
  LambdaClient,
  ListFunctionsCommand,
  ListTagsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HOOK_ID_TAG, TENANT_TAG } from '../../../../shared/adapters/aws/functionRunner.ts';
import { createFunctionSweeper } from '../../../../shared/adapters/aws/functionSweeper.ts';
import { userFunctionName } from '../../../../shared/adapters/aws/userFunctionPackage.ts';
import type { EventHook } from '../../../../shared/hooks/hook.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import { ManualClock } from '../../../../shared/ports/clock.ts';
import { HookStore } from '../../../../shared/store/hookStore.ts';
import { startTestStore, type TestStore } from '../../../support/store.ts';

const client = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const lambda = mockClient(client);
const PREFIX = 'eh-user';
const NOW = Date.parse('2026-06-01T12:00:00Z');
const OLD = '2026-06-01T09:00:00.000+0000';
const RECENT = '2026-06-01T11:50:00.000+0000';
const CODE_A = 'return () => "a"';
const CODE_B = 'return () => "b"';
const KEPT = '11111111-1111-4111-8111-111111111111';
const DELETED = '22222222-2222-4222-8222-222222222222';

const lambdaHook = (id: string, functions: string[]): EventHook => ({
  id,
  created_at: 1,
  source: 'crud',
  event: 'consumers',
  handler: 'lambda',
  on_change: null,
  snooze: null,
  config: { functions },
});

describe('createFunctionSweeper', () => {
  let store: TestStore;
  let hooks: HookStore;
  const logger = memoryLogger();
  const nameOf = (tenant: string, hookId: string, index: number, code: string) =>
    userFunctionName(PREFIX, { tenant, hookId, index, code });

  beforeAll(async () => {
    store = await startTestStore();
    hooks = new HookStore({ client: store.client, tableName: store.tableName });
    // The one stored hook now runs CODE_B at index 0 (it ran CODE_A before) and CODE_A at index 1.
    await hooks.create('default', lambdaHook(KEPT, [CODE_B, CODE_A]));
  });
  afterAll(() => store.close());
  beforeEach(() => lambda.reset());

  /** A function as ListFunctions reports it, tagged as a deploy job tags it unless `tags` says otherwise. */
  const fn = (name: string, lastModified: string, tags?: Record<string, string>) => {
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
    lambda.on(ListTagsCommand, { Resource: arn }).resolves({ Tags: tags ?? {} });
    return { FunctionName: name, FunctionArn: arn, LastModified: lastModified } satisfies FunctionConfiguration;
  };
  const tagsOf = (tenant: string, hookId: string) => ({ [TENANT_TAG]: tenant, [HOOK_ID_TAG]: hookId });

  it('goes through every page and deletes only tagged functions no stored hook uses', async () => {
    // Prepare
    const inUse = [nameOf('default', KEPT, 0, CODE_B), nameOf('default', KEPT, 1, CODE_A)];
    const oldCode = nameOf('default', KEPT, 0, CODE_A);
    const hookGone = nameOf('default', DELETED, 0, CODE_A);
    const otherTenant = nameOf('acme', KEPT, 0, CODE_B);
    const recent = nameOf('default', DELETED, 1, CODE_B);
    const untagged = nameOf('default', DELETED, 2, CODE_B);
    lambda
      .on(ListFunctionsCommand)
      .resolvesOnce({
        Functions: [
          fn(inUse[0]!, OLD, tagsOf('default', KEPT)),
          fn(oldCode, OLD, tagsOf('default', KEPT)),
          fn('event-hooks-admin', OLD, tagsOf('default', KEPT)),
          fn(recent, RECENT, tagsOf('default', DELETED)),
        ],
        NextMarker: 'page-2',
      })
      .resolvesOnce({
        Functions: [
          fn(inUse[1]!, OLD, tagsOf('default', KEPT)),
          fn(hookGone, OLD, tagsOf('default', DELETED)),
          fn(otherTenant, OLD, tagsOf('acme', KEPT)),
          fn(untagged, OLD),
        ],
      });
    lambda.on(DeleteFunctionCommand).resolves({});
    const sweep = createFunctionSweeper({ prefix: PREFIX, client, hooks, logger, clock: new ManualClock(NOW) });

    // Act
    const result = await sweep();

    // Assess
    // The paginator asked twice, the second time for the marker of the first page.
    const listed = lambda.commandCalls(ListFunctionsCommand);
    expect(listed).toHaveLength(2);
    expect(listed[1]!.args[0].input.Marker).toBe('page-2');
    const deleted = lambda.commandCalls(DeleteFunctionCommand).map((c) => c.args[0].input.FunctionName);
    expect(deleted.sort()).toEqual([oldCode, hookGone, otherTenant].sort());
    expect(result).toEqual({ seen: 7, deleted: expect.arrayContaining([oldCode, hookGone, otherTenant]) });
    // Functions changed within the grace period are not even looked up.
    const tagged = lambda.commandCalls(ListTagsCommand).map((c) => c.args[0].input.Resource);
    expect(tagged.some((arn) => arn?.endsWith(recent))).toBe(false);
  });

  it('counts a function deleted meanwhile as done, and logs one it could not delete without stopping', async () => {
    // Prepare
    const gone = nameOf('default', DELETED, 0, CODE_A);
    const denied = nameOf('default', DELETED, 1, CODE_A);
    const next = nameOf('default', DELETED, 2, CODE_A);
    lambda.on(ListFunctionsCommand).resolves({
      Functions: [
        fn(gone, OLD, tagsOf('default', DELETED)),
        fn(denied, OLD, tagsOf('default', DELETED)),
        fn(next, OLD, tagsOf('default', DELETED)),
      ],
    });
    lambda
      .on(DeleteFunctionCommand, { FunctionName: gone })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    lambda
      .on(DeleteFunctionCommand, { FunctionName: denied })
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    lambda.on(DeleteFunctionCommand, { FunctionName: next }).resolves({});
    const sweep = createFunctionSweeper({ prefix: PREFIX, client, hooks, logger, clock: new ManualClock(NOW) });

    // Act
    const result = await sweep();

    // Assess
    expect(result.deleted).toEqual([next]);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ message: 'could not delete an unused user function', function_name: denied }),
    );
  });
});
