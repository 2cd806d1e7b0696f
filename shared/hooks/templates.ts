import Mustache from 'mustache';

/**
 * Templates in `webhook-custom` configs: `{{ entity.username }}` (HTML-escaped, as Kong's resty
 * templates do) and `{{{ raw }}}`, rendered against the event data.
 */

type Token = [string, string, number, number, Token[]?];

/**
 * A section inside a section multiplies: two nested loops over a large array in the event data
 * would render for minutes and exhaust memory. Kong's examples need neither nesting nor partials.
 */
function unsupported(tokens: Token[], depth: number): string | undefined {
  for (const token of tokens) {
    const [kind, name] = token;
    if (kind === '>') return `partials are not supported ({{> ${name}}})`;
    if (kind === '#' || kind === '^') {
      if (depth > 0) return `sections cannot be nested ({{${kind}${name}}})`;
      const inner = unsupported(token[4] ?? [], depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** `undefined` when the template parses and is supported, otherwise why it is not. */
export function templateSyntaxError(template: string): string | undefined {
  try {
    const problem = unsupported(Mustache.parse(template) as unknown as Token[], 0);
    return problem ? `invalid template: ${problem}` : undefined;
  } catch (error) {
    return `invalid template: ${(error as Error).message}`;
  }
}

const KONG_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '/': '&#47;',
};

/** Kong's (lua-resty-template's) HTML escaping, which differs from mustache's own (`=`, backtick, `/`). */
export function kongEscape(value: unknown): string {
  return String(value).replace(/[&<>"'/]/g, (c) => KONG_ESCAPES[c] as string);
}

/** Renders one template against the event data. Missing paths render as the empty string. */
export function renderTemplate(template: string, data: Record<string, unknown>): string {
  return Mustache.render(template, data, undefined, { escape: kongEscape });
}

/** Renders every value of a string map. */
export function renderValues(values: Record<string, string>, data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) out[key] = renderTemplate(value, data);
  return out;
}
