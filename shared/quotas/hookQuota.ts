import type { HookChange } from '../admin/hookService.ts';
import { QuotaExceededError } from '../errors.ts';
import { userCodeOf } from '../handlers/registry.ts';
import type { EventHook } from '../hooks/hook.ts';
import { isLambdaReference } from '../ports/functionRunner.ts';
import type { HookStore } from '../store/hookStore.ts';
import type { QuotaBook } from './quotaBook.ts';

/** The user functions a hook makes this service deploy: the inline code entries of its handler's resource hook. */
export function userFunctionCount(hook: EventHook): number {
  return userCodeOf(hook)?.filter((entry) => !isLambdaReference(entry)).length ?? 0;
}

/** Freeing room takes the tenant's own action (a delete) or its operator's: no point retrying sooner. */
const RETRY_AFTER_SECONDS = 60;

/**
 * Refuses, before it is stored, a write that would take the tenant past its `hooks` or
 * `user_functions` quota: a new hook, or a hook whose code entries grow. Counted from the tenant's
 * stored hooks (one query, only on such writes). HookService runs a tenant's writes one at a time
 * in a process, so concurrent creates cannot all pass; creates racing on separate Lambda instances
 * can: the quota bounds what a tenant builds up, not one request more or less.
 */
export function createHookQuotaCheck(options: {
  hooks: Pick<HookStore, 'listAll'>;
  quotas: QuotaBook;
}): (change: HookChange) => Promise<void> {
  return async ({ tenant, operation, hook, old }) => {
    if (operation === 'delete') return;
    const quotas = await options.quotas.get(tenant);
    const functions = userFunctionCount(hook);
    const moreHooks = operation === 'create' && quotas.hooks !== null;
    const moreFunctions = quotas.user_functions !== null && functions > (old ? userFunctionCount(old) : 0);
    if (!moreHooks && !moreFunctions) return;
    const others = (await options.hooks.listAll(tenant)).filter((stored) => stored.id !== hook.id);
    if (moreHooks && others.length + 1 > (quotas.hooks as number)) {
      throw new QuotaExceededError(
        'hooks',
        `quota exceeded: this tenant may have at most ${quotas.hooks} event hooks`,
        {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        },
      );
    }
    const total = others.reduce((sum, stored) => sum + userFunctionCount(stored), functions);
    if (moreFunctions && total > (quotas.user_functions as number)) {
      throw new QuotaExceededError(
        'user_functions',
        `quota exceeded: this tenant may have at most ${quotas.user_functions} user functions (this write makes ${total})`,
        { retryAfterSeconds: RETRY_AFTER_SECONDS },
      );
    }
  };
}
