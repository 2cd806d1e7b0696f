import type { Static } from '@sinclair/typebox';
import * as Type from '@sinclair/typebox';
import { defineHandler } from '../../../shared/handlers/definition.ts';
import { acceptedText } from '../../../shared/hooks/refinements.ts';
import { LIMITS, Text } from '../../../shared/hooks/schemas.ts';
import { renderTemplate, templateBudget, templateSyntaxError } from '../../../shared/hooks/templates.ts';
import { addRefinement } from '../../../shared/schema/kongErrors.ts';

/**
 * `echo`, the example of CONTRIBUTING.md ("Adding a handler"): no side effect; the callback answers
 * with its `reply` template rendered against the event, `times` times, upper-cased when `shout` is on.
 * Registered only by registry.test.ts, which shows that this file and one registry line are all a
 * handler needs.
 */
export const EchoConfigSchema = Type.Object(
  {
    reply: Text(LIMITS.bodyLength, { description: 'A template rendered against the event data.' }),
    times: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
    shout: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

declare module '../../../shared/hooks/hook.ts' {
  interface HandlerConfigs {
    echo: Static<typeof EchoConfigSchema>;
  }
}

export const echoHandler = defineHandler({
  name: 'echo',
  config: EchoConfigSchema,
  // What JSON Schema cannot say: `reply` must be a template that parses.
  refine(config, errors) {
    const reply = acceptedText(config, errors, 'reply');
    if (reply !== undefined) addRefinement(errors, ['reply'], templateSyntaxError(reply));
  },
  create: (hook, deps) => ({
    async callback(event) {
      const reply = renderTemplate(hook.config.reply, event.data, templateBudget(deps.templateMaxBytes));
      const text = Array(hook.config.times).fill(reply).join(' ');
      return { echoed: hook.config.shout ? text.toUpperCase() : text };
    },
    ping: async () => ({ echoed: 'pong' }),
  }),
});
