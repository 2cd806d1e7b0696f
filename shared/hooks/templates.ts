import Mustache from 'mustache';

/**
 * Templates in `webhook-custom` configs: `{{ entity.username }}` (HTML-escaped, as Kong's resty
 * templates do) and `{{{ raw }}}`, rendered against the event data.
 */

/** `undefined` when the template parses, otherwise why it does not. */
export function templateSyntaxError(template: string): string | undefined {
  try {
    Mustache.parse(template);
    return undefined;
  } catch (error) {
    return `invalid template: ${(error as Error).message}`;
  }
}

/** Renders one template against the event data. Missing paths render as the empty string. */
export function renderTemplate(template: string, data: Record<string, unknown>): string {
  return Mustache.render(template, data);
}

/** Renders every value of a string map. */
export function renderValues(values: Record<string, string>, data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) out[key] = renderTemplate(value, data);
  return out;
}
