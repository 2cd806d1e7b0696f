import type { HandlerFactory } from './types.ts';

/**
 * `log`: one structured line with the hook id, source, event and data, nothing else (docs/reference.md
 * §2.3). The logger masks secret-looking keys of the data before the line is written.
 */
export const log: HandlerFactory<'log'> = (hook, deps) => ({
  async callback(event) {
    deps.logger.info('event hook', { hook_id: hook.id, source: event.source, event: event.event, data: event.data });
    return { logged: true };
  },
});
