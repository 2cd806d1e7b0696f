// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { defineHandler } from './definition.ts';
import type { HandlerFactory, LogResult } from './types.ts';

export const LogConfigSchema = Type.Object({}, { additionalProperties: false });

declare module '../hooks/hook.ts' {
  interface HandlerConfigs {
    log: Record<string, never>;
  }
}

/**
 * `log`: one structured line with the hook id, source, event and data, nothing else (docs/reference.md
 * §2.3). The logger masks secret-looking keys of the data before the line is written.
 */
export const log: HandlerFactory<'log', LogResult> = (hook, deps) => ({
  async callback(event) {
    deps.logger.info('event hook', { hook_id: hook.id, source: event.source, event: event.event, data: event.data });
    return { logged: true };
  },
});

/** `log` (docs/reference.md §2.3): no config. */
export const logHandler = /* @__PURE__ */ defineHandler({ name: 'log', config: LogConfigSchema, create: log });
