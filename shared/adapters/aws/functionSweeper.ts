import {
  DeleteFunctionCommand,
  type FunctionConfiguration,
  type LambdaClient,
  ListTagsCommand,
  paginateListFunctions,
} from '@aws-sdk/client-lambda';
import { userCodeOf } from '../../handlers/registry.ts';
import type { Logger } from '../../logger.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { isLambdaReference } from '../../ports/functionRunner.ts';
import type { HookStore } from '../../store/hookStore.ts';
import { awsErrorName } from './backoff.ts';
import { HOOK_ID_TAG, TENANT_TAG } from './functionRunner.ts';
import { userFunctionName } from './userFunctionPackage.ts';

export interface FunctionSweeperOptions {
  /** `USER_FUNCTION_PREFIX`. */
  prefix: string;
  /** The control-plane client (`controlPlaneClient()`): the SDK retries throttling. */
  client: LambdaClient;
  hooks: Pick<HookStore, 'get'>;
  logger: Logger;
  clock?: Clock;
  /**
   * Functions changed more recently than this are left alone, whatever the hooks say: a deploy job
   * may have just created one for a hook version the sweep did not see. Default one hour.
   */
  graceMs?: number;
}

export interface SweepResult {
  /** Functions of this deployment looked at. */
  seen: number;
  deleted: string[];
}

/**
 * Removes the user functions no stored hook uses: those a deploy job could not remove (a failed
 * delete, a job lost), and those of hooks deleted since. A function is this deployment's when its
 * name has the user-function prefix and it carries the hook id and tenant tags; it is unused when
 * the hook it is tagged with is gone or no longer has that code at that index (its name is a hash of
 * both). Lists with the SDK's paginator; throttling is the SDK's retry.
 *
 * @example
 * const sweep = createFunctionSweeper({ prefix, client: controlPlaneClient(), hooks: app.hooks, logger });
 * await sweep();
 */
export function createFunctionSweeper(options: FunctionSweeperOptions): () => Promise<SweepResult> {
  const { client, prefix, logger } = options;
  const clock = options.clock ?? systemClock;
  const graceMs = options.graceMs ?? 60 * 60 * 1000;
  const ours = new RegExp(`^${prefix.replace(/[^A-Za-z0-9]/g, '\\$&')}-[0-9a-f]{16}-[0-9a-f]+$`);

  /** The function names the stored hook (by tenant and id) uses now; cached for one sweep. */
  async function namesInUse(cache: Map<string, Set<string>>, tenant: string, hookId: string): Promise<Set<string>> {
    const key = JSON.stringify([tenant, hookId]);
    let names = cache.get(key);
    if (!names) {
      const stored = await options.hooks.get(tenant, hookId);
      const code = (stored && userCodeOf(stored.hook)) ?? [];
      names = new Set(
        code.flatMap((entry, index) =>
          isLambdaReference(entry) ? [] : [userFunctionName(prefix, { tenant, hookId, index, code: entry })],
        ),
      );
      cache.set(key, names);
    }
    return names;
  }

  return async () => {
    const cache = new Map<string, Set<string>>();
    const deleted: string[] = [];
    let seen = 0;
    const cutoff = clock.now() - graceMs;
    for await (const page of paginateListFunctions({ client }, {})) {
      for (const fn of page.Functions ?? []) {
        if (!fn.FunctionName || !fn.FunctionArn || !ours.test(fn.FunctionName)) continue;
        seen++;
        if (changedSince(fn, cutoff)) continue;
        const { Tags = {} } = await client.send(new ListTagsCommand({ Resource: fn.FunctionArn }));
        const tenant = Tags[TENANT_TAG];
        const hookId = Tags[HOOK_ID_TAG];
        // Not created by a deploy job of this service: never ours to delete.
        if (!tenant || !hookId) continue;
        if ((await namesInUse(cache, tenant, hookId)).has(fn.FunctionName)) continue;
        try {
          await client.send(new DeleteFunctionCommand({ FunctionName: fn.FunctionName }));
          deleted.push(fn.FunctionName);
        } catch (error) {
          if (awsErrorName(error) === 'ResourceNotFoundException') continue;
          logger.warn('could not delete an unused user function', { function_name: fn.FunctionName, error });
        }
      }
    }
    logger.info('user functions swept', { seen, deleted: deleted.length });
    return { seen, deleted };
  };
}

/** Lambda reports `LastModified` as `2024-01-01T00:00:00.000+0000`; unreadable counts as recent (kept). */
function changedSince(fn: FunctionConfiguration, cutoff: number): boolean {
  const modified = Date.parse((fn.LastModified ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return !Number.isFinite(modified) || modified > cutoff;
}
