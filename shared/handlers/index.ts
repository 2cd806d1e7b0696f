import type { EventHook, HandlerName, HookOf } from '../hooks/hook.ts';
import { lambda } from './lambda.ts';
import { log } from './log.ts';
import type { HandlerDeps, HandlerFactory, HookHandler } from './types.ts';
import { webhook } from './webhook.ts';
import { webhookCustom } from './webhookCustom.ts';

export type * from './types.ts';

/**
 * Every handler, by name: the only place that knows which handlers exist. Callers look a handler up
 * and never branch on its type; a handler without `ping` simply has none.
 */
export const handlers: { [H in HandlerName]: HandlerFactory<H> } = {
  webhook,
  'webhook-custom': webhookCustom,
  log,
  lambda,
};

/**
 * Makes a hook runnable.
 *
 * @example
 * const handler = createHandler(hook, { http, functions, logger, tenant });
 * const result = await handler.callback({ source: 'crud', event: 'consumers', data });
 * if (!handler.ping) throw new BadRequestError(`handler '${hook.handler}' does not support 'ping'`);
 */
export function createHandler(hook: EventHook, deps: HandlerDeps): HookHandler {
  return build(hook, deps);
}

function build<H extends HandlerName>(hook: HookOf<H>, deps: HandlerDeps): HookHandler<H> {
  const factory: HandlerFactory<H> = handlers[hook.handler];
  return factory(hook, deps);
}
