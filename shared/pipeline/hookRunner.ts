import type { HookRunner } from '../admin/router.ts';
import { BadRequestError } from '../errors.ts';
import { createHandler } from '../handlers/index.ts';
import type { HandlerDeps } from '../handlers/types.ts';

/** `/test` and `/ping`: a hook run now, in the request, with no queue and no gate. */
export function createHookRunner(handlerDeps: (tenant: string) => HandlerDeps): HookRunner {
  return {
    test: (tenant, hook, data) =>
      createHandler(hook, handlerDeps(tenant)).callback({ source: hook.source, event: hook.event, data }),
    ping: async (tenant, hook) => {
      const handler = createHandler(hook, handlerDeps(tenant));
      if (!handler.ping) throw new BadRequestError(`handler '${hook.handler}' does not support 'ping'`);
      return handler.ping();
    },
  };
}
