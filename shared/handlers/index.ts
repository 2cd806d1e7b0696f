import type { HandlerName, HookEntity } from '../hooks/hook.ts';
import type { HandlerRegistry } from './definition.ts';
import { HANDLER_DEFINITIONS, HANDLERS } from './registry.ts';
import type { HandlerDeps, HookHandler } from './types.ts';

export type * from './types.ts';

/**
 * Every handler's factory, by name, from the registry (registry.ts). Callers look a handler up and
 * never branch on its type; a handler without `ping` simply has none.
 */
export const handlers = /* @__PURE__ */ Object.fromEntries(
  HANDLER_DEFINITIONS.map((definition) => [definition.name, definition.create]),
) as Record<HandlerName, (typeof HANDLER_DEFINITIONS)[number]['create']>;

/**
 * Makes a hook runnable with the factory its handler's definition gives.
 *
 * @example
 * const handler = createHandler(hook, { http, functions, logger, tenant });
 * const result = await handler.callback({ source: 'crud', event: 'consumers', data });
 * if (!handler.ping) throw new BadRequestError(`handler '${hook.handler}' does not support 'ping'`);
 */
export function createHandler(
  hook: HookEntity<string, unknown>,
  deps: HandlerDeps,
  registry: HandlerRegistry = HANDLERS,
): HookHandler {
  const definition = registry.get(hook.handler);
  // Hooks are validated against the same registry before they are stored.
  if (!definition) throw new TypeError(`no handler named '${hook.handler}'`);
  return definition.create(hook, deps);
}
