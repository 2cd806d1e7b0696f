import { createHandler } from '../handlers/index.ts';
import { userCodeOf } from '../handlers/registry.ts';
import type { HandlerDeps } from '../handlers/types.ts';
import type { EventHook } from '../hooks/hook.ts';
import { type Logger, redactConfig } from '../logger.ts';
import type { EventBus } from '../ports/eventBus.ts';
import type { FunctionDeployQueue } from '../ports/functionDeployQueue.ts';
import { type FunctionRunner, functionsNotIn, isLambdaReference } from '../ports/functionRunner.ts';
import type { HookChange } from './hookService.ts';

export interface HookWriteEffectsDeps {
  /** Checks the user code of a hook before it is stored (`verify`); deploying goes through `deployQueue`. */
  functions: Pick<FunctionRunner, 'verify'>;
  /** Where deploy jobs go: run at once locally, an SQS queue on AWS. */
  deployQueue: FunctionDeployQueue;
  /** Forgets a tenant's cached hooks, so this process's dispatcher and deliveries see a write at once. */
  invalidate: (tenant: string) => void;
  /** Where the `event_hooks` crud change goes. */
  bus: EventBus;
  /** What a handler of the tenant is built with (the ping is the handler's own). */
  handlerDeps: (tenant: string) => HandlerDeps;
  /**
   * Whether the ping finishes before the write answers. On Lambda the environment may be frozen as
   * soon as the answer is sent, cutting a background ping short; elsewhere it runs in the background.
   */
  awaitPing: boolean;
  logger: Logger;
}

/** What happens around a hook write, as `HookService` calls it (see its `verifyWrite`, `beforeWrite`, `afterWrite`). */
export interface HookWriteEffects {
  verifyWrite(change: HookChange): Promise<void>;
  beforeWrite(change: HookChange): Promise<void>;
  afterWrite(change: HookChange): Promise<void>;
  /** Queues the removal of every function a hook deployed (the hook is gone with its tenant); never rejects. */
  removeFunctions(tenant: string, hook: EventHook): Promise<void>;
  /** Resolves when background work (pings) has finished. */
  settled(): Promise<void>;
}

/** The entries this service deploys for a hook: its handler's resource hook (`lambda`: its `functions`). */
function userCode(hook: EventHook): string[] | undefined {
  const entries = userCodeOf(hook);
  return entries ? [...entries] : undefined;
}

/** Whether a hook has functions this service deploys: at least one entry that is inline code. */
function hasUserCode(functions: string[] | undefined): functions is string[] {
  return functions?.some((entry) => !isLambdaReference(entry)) ?? false;
}

/** Hides secrets of a hook before it travels as event data (beyond Kong, which sends them as they are). */
export function withoutSecrets(hook: EventHook): EventHook {
  // The same rule as the logs: `secret` and credential-like headers (Authorization, X-Api-Key…).
  return { ...hook, config: redactConfig(hook.config) } as EventHook;
}

/**
 * Deploying is not done here but by a deploy job after the write (off the request path on AWS: the
 * Lambda control plane is slow and its quota small). The hook is stored `pending` unless it keeps
 * exactly the functions of an `active` version; a hook stored before deployments had a state was
 * deployed inside its request, so it counts as active.
 *
 * After the write: the cache is invalidated, one deploy job deploys the stored version's functions
 * and removes the old ones it no longer uses, the handler is pinged, and the change is emitted as
 * Kong's DAO emits it. None of these undoes the write when it fails: each failure is logged with
 * the hook id.
 */
export function createHookWriteEffects(deps: HookWriteEffectsDeps): HookWriteEffects {
  const { logger } = deps;
  const background = new Set<Promise<unknown>>();
  /** `about` names the task and its hook, so a failure in the log says which hook it concerns. */
  const inBackground = (task: Promise<unknown>, about: Record<string, unknown>) => {
    const tracked = task
      .catch((error) => logger.warn('background task failed', { ...about, error }))
      .finally(() => background.delete(tracked));
    background.add(tracked);
  };

  // Code that cannot load to a function is refused with a 400 before it is stored, where the
  // runner can check it cheaply (locally, in the sandbox). A dry run checks it too.
  const verifyWrite = async ({ tenant, hook }: HookChange) => {
    const functions = userCode(hook);
    if (hasUserCode(functions)) await deps.functions.verify?.({ tenant, id: hook.id, functions });
  };

  const beforeWrite = async (change: HookChange) => {
    const { hook, old } = change;
    const functions = userCode(hook);
    if (!hasUserCode(functions)) return;
    await verifyWrite(change);
    const oldFunctions = old ? userCode(old) : undefined;
    const same = oldFunctions !== undefined && functionsNotIn(functions, [oldFunctions]).every((e) => e === null);
    const oldState = old?.deployment?.state ?? 'active';
    hook.deployment = same && oldState === 'active' ? { state: 'active' } : { state: 'pending' };
  };

  const deploy = async ({ tenant, operation, hook, old }: HookChange) => {
    const oldFunctions = old ? userCode(old) : undefined;
    const remove = oldFunctions ? functionsNotIn(oldFunctions, operation === 'delete' ? [] : [userCode(hook)]) : [];
    const pending = operation !== 'delete' && hook.deployment?.state === 'pending';
    if (!pending && !remove.some((entry) => entry !== null)) return;
    try {
      const deployment = await deps.deployQueue.send({ tenant, hookId: hook.id, remove });
      // Run at once (locally): the answer shows the outcome.
      if (pending && deployment) hook.deployment = deployment;
    } catch (error) {
      // The write stands; answering 5xx would only invite a retry that creates a second hook.
      logger.error('could not queue the deployment of user functions', { hook_id: hook.id, operation, error });
    }
  };

  // Kong pings handlers that can be pinged, in the background.
  const ping = async ({ tenant, operation, hook }: HookChange) => {
    if (operation === 'delete') return;
    const pingHandler = createHandler(hook, deps.handlerDeps(tenant)).ping;
    if (!pingHandler) return;
    const about = { task: 'ping', hook_id: hook.id, operation };
    if (deps.awaitPing) {
      await pingHandler(operation).catch((error: unknown) =>
        logger.warn('background task failed', { ...about, error }),
      );
    } else {
      inBackground(pingHandler(operation), about);
    }
  };

  const emit = async ({ tenant, operation, hook, old }: HookChange) => {
    const data = {
      operation,
      // As Kong's DAO emits them: a delete carries the deleted entity and no old one.
      entity: withoutSecrets(hook),
      old_entity: old && operation !== 'delete' ? withoutSecrets(old) : null,
      schema: 'event_hooks',
    };
    try {
      await deps.bus.publish([{ tenant, source: 'crud', event: 'event_hooks', data }]);
    } catch (error) {
      logger.warn('could not emit the event_hooks change', { hook_id: hook.id, operation, error });
    }
  };

  return {
    verifyWrite,
    beforeWrite,
    async afterWrite(change) {
      // This process's dispatcher and deliveries see the change at once; others within HOOK_CACHE_CHECK_MS.
      deps.invalidate(change.tenant);
      await deploy(change);
      await ping(change);
      await emit(change);
    },
    async removeFunctions(tenant, hook) {
      const functions = userCode(hook);
      const remove = functions ? functionsNotIn(functions, []) : [];
      if (!remove.some((entry) => entry !== null)) return;
      await deps.deployQueue.send({ tenant, hookId: hook.id, remove }).catch((error: unknown) =>
        // The functions carry the tenant and hook tags: the sweeper removes them later.
        logger.warn('could not queue the removal of user functions', { hook_id: hook.id, error }),
      );
    },
    async settled() {
      while (background.size > 0) await Promise.all(background);
    },
  };
}
