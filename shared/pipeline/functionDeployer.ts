import { userCodeOf } from '../handlers/registry.ts';
import type { HookDeployment } from '../hooks/hook.ts';
import type { Logger } from '../logger.ts';
import type { FunctionDeployJob, FunctionDeployQueue } from '../ports/functionDeployQueue.ts';
import { type FunctionRunner, functionsNotIn } from '../ports/functionRunner.ts';
import type { HookStore } from '../store/hookStore.ts';

export interface FunctionDeployerDeps {
  hooks: Pick<HookStore, 'get'>;
  functions: FunctionRunner;
  /** `setHookDeployment` on the table: false when the hook changed since it was read. */
  setDeployment: (change: { tenant: string; id: string; rev: number; deployment: HookDeployment }) => Promise<boolean>;
  logger: Logger;
}

export interface DeployAttempt {
  /**
   * This is the job's last attempt: a failure to deploy marks the hook `failed` instead of rejecting.
   * Default true (the local runtime has no second attempt).
   */
  final?: boolean;
}

/** Runs one deploy job; resolves with the hook's deployment as the job left it (undefined: no such state). */
export type FunctionDeployer = (job: FunctionDeployJob, attempt?: DeployAttempt) => Promise<HookDeployment | undefined>;

/**
 * The deploy worker's core, the same on both runtimes: reads the hook as stored now (consistently);
 * when its deployment is `pending`, deploys its functions through the runner and marks it `active`
 * (or `failed`, on the last attempt); then removes the functions of `job.remove` the stored hook does
 * not use. A rejection means "try the job again later" (throttled beyond the SDK's retries, a waiter
 * that ran out of time): the deployment stays `pending` and deliveries keep waiting.
 */
export function createFunctionDeployer(deps: FunctionDeployerDeps): FunctionDeployer {
  return async (job, attempt = {}) => {
    const final = attempt.final ?? true;
    const { tenant, hookId: id } = job;
    const stored = await deps.hooks.get(tenant, id);
    const code = stored ? userCodeOf(stored.hook) : undefined;
    let deployment = stored?.hook.deployment;

    if (stored && code && deployment?.state === 'pending') {
      try {
        await deps.functions.deploy({ tenant, id, functions: code });
        deployment = { state: 'active' };
      } catch (error) {
        if (!final) throw error;
        deployment = { state: 'failed', error: (error as Error).message };
      }
      if (await deps.setDeployment({ tenant, id, rev: stored.rev, deployment })) {
        deps.logger[deployment.state === 'active' ? 'info' : 'error']('user functions deployed', {
          hook_id: id,
          state: deployment.state,
          ...(deployment.error ? { error: deployment.error } : {}),
        });
      }
    }

    // Only now that the stored version's functions are ready do the older ones go (blue/green).
    const unused = functionsNotIn(job.remove, [code]);
    if (unused.some((entry) => entry !== null)) {
      try {
        await deps.functions.remove({ tenant, id, functions: unused });
      } catch (error) {
        if (!final) throw error;
        // The functions carry the hook id tag: the sweeper removes them later.
        deps.logger.warn('could not remove the user functions of a hook', { hook_id: id, error });
      }
    }
    return deployment;
  };
}

/**
 * Sends a deploy job again for every hook of the tenant still `pending`: one whose job was lost (the
 * queue could not be reached after the write) would otherwise never be deployed. A hook whose job is
 * merely under way gets a second one, which finds it `active` and does nothing. Resolves with how many.
 */
export async function requeuePendingDeployments(
  hooks: Pick<HookStore, 'list'>,
  tenant: string,
  queue: FunctionDeployQueue,
): Promise<number> {
  let requeued = 0;
  let offset: string | undefined;
  do {
    const page = await hooks.list(tenant, { size: 100, ...(offset ? { offset } : {}) });
    for (const hook of page.hooks) {
      if (hook.deployment?.state !== 'pending') continue;
      await queue.send({ tenant, hookId: hook.id, remove: [] });
      requeued++;
    }
    offset = page.next;
  } while (offset);
  return requeued;
}
