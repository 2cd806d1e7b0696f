import { QuotaExceededError } from '../errors.ts';
import { userCodeOf } from '../handlers/registry.ts';
import type { EventHook } from '../hooks/hook.ts';
import { isLambdaReference } from '../ports/functionRunner.ts';
import type { UsageGuard } from '../store/hookStore.ts';
import type { QuotaBook } from './quotaBook.ts';

/** The user functions a hook makes this service deploy: the inline code entries of its handler's resource hook. */
export function userFunctionCount(hook: EventHook): number {
  return userCodeOf(hook)?.filter((entry) => !isLambdaReference(entry)).length ?? 0;
}

/** Freeing room takes the tenant's own action (a delete) or its operator's: no point retrying sooner. */
const RETRY_AFTER_SECONDS = 60;

/**
 * The tenant's `hooks` and `user_functions` quotas as the hook store enforces them: each write that
 * adds a hook or grows its code entries reserves its room on the tenant's usage counter before the
 * hook is stored (one conditional update), so the bound is exact however many processes (Lambda
 * instances of the admin function) write at once. A write past a bound answers 429; a bound lowered
 * below the count refuses growth and keeps what is stored. The counter costs each create, delete or
 * code change one more small write (admin writes are rare); see `UsageGuard` in hookStore.ts.
 */
export function createHookUsageGuard(options: { quotas: QuotaBook }): (tenant: string) => Promise<UsageGuard> {
  return async (tenant) => {
    const quotas = await options.quotas.get(tenant);
    return {
      functionsOf: userFunctionCount,
      limits: { hooks: quotas.hooks, functions: quotas.user_functions },
      refuse: (quota, made) =>
        new QuotaExceededError(
          quota,
          quota === 'hooks'
            ? `quota exceeded: this tenant may have at most ${quotas.hooks} event hooks`
            : `quota exceeded: this tenant may have at most ${quotas.user_functions} user functions (this write makes ${made})`,
          { retryAfterSeconds: RETRY_AFTER_SECONDS },
        ),
    };
  };
}
