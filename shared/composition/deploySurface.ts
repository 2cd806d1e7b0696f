import { createFunctionDeployer, type FunctionDeployer } from '../pipeline/functionDeployer.ts';
import { setHookDeployment } from '../store/hookDeployment.ts';
import type { Core } from './core.ts';

/** The deploy worker's surface: one job on the user functions of a hook (see `FunctionDeployJob`). */
export interface DeploySurface {
  deployFunctions: FunctionDeployer;
}

export function createDeploySurface(core: Core): DeploySurface {
  const { client, config, cache, hooks, logger, ports } = core;
  const deployFunctions = createFunctionDeployer({
    hooks,
    functions: ports.functions,
    setDeployment: async (change) => {
      const marked = await setHookDeployment(client, config.tableName, change);
      // This process's deliveries see it at once; others within HOOK_CACHE_CHECK_MS (the version was bumped).
      if (marked) cache.invalidate(change.tenant);
      return marked;
    },
    logger,
  });
  return { deployFunctions };
}
