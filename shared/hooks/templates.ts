import Mustache from 'mustache';
import { TemplateError } from '../errors.ts';
import { DEFAULT_TEMPLATE_MAX_BYTES, TEMPLATE_MAX_STEPS } from './templateLimits.ts';

export { DEFAULT_TEMPLATE_MAX_BYTES, TEMPLATE_MAX_STEPS } from './templateLimits.ts';

/**
 * Templates in `webhook-custom` configs: `{{ entity.username }}` (HTML-escaped, as Kong's resty
 * templates do) and `{{{ raw }}}`, rendered against the event data.
 *
 * Mustache parses; the rendering is our own walk over its tokens, for two reasons mustache's
 * renderer cannot serve. A section over an array in the event data repeats its content once per
 * element, so a small event can ask for gigabytes (`{{#items}}{{big}}{{/items}}`): the walk counts
 * bytes and steps as it goes and stops at the {@link TemplateBudget}, instead of building the whole
 * string first. And mustache looks names up with `in`, which walks the prototype chain
 * (`{{constructor.name}}` gave "Object"): the walk sees own properties of the data only.
 */

/** Mustache's token: kind, name or text, start, end, and a section's children. */
type Token = [string, string, number, number, Token[]?];

/** A level of the context stack: a section pushes the value it renders with. */
interface Frame {
  view: unknown;
  parent: Frame | undefined;
}

/** What the templates of one delivery may still spend; shared by body, payload and headers. */
export interface TemplateBudget {
  readonly maxBytes: number;
  readonly maxSteps: number;
  bytes: number;
  steps: number;
}

/**
 * A fresh budget for one delivery.
 *
 * @example
 * const budget = templateBudget(config.templateMaxBytes);
 * renderTemplate(body, data, budget, 'body');
 */
export function templateBudget(maxBytes = DEFAULT_TEMPLATE_MAX_BYTES, maxSteps = TEMPLATE_MAX_STEPS): TemplateBudget {
  return { maxBytes, maxSteps, bytes: 0, steps: 0 };
}

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
    const problem = unsupported(parse(template), 0);
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

/**
 * Renders one template against the event data. Missing paths, and names that exist only on a
 * prototype (`constructor`, `__proto__`, `toString`…), render as the empty string. An object or
 * array renders as its JSON: HTML-escaped in `{{ }}`, as is in `{{{ }}}`.
 *
 * Throws a {@link TemplateError} naming `field` when the output would pass the budget's bytes, the
 * walk its steps, or the template does not parse: the same event fails the same way every time.
 *
 * @example
 * renderTemplate('{{ entity.username }} {{ operation }}d', { entity: { username: 'bob' }, operation: 'create' });
 * // → 'bob created'
 */
export function renderTemplate(
  template: string,
  data: Record<string, unknown>,
  budget: TemplateBudget = templateBudget(),
  field = 'template',
): string {
  let tokens: Token[];
  try {
    tokens = parse(template);
  } catch (error) {
    throw new TemplateError(`${field}: invalid template: ${(error as Error).message}`, { cause: error });
  }
  const out: string[] = [];
  const emit = (piece: string) => {
    if (piece === '') return;
    const bytes = Buffer.byteLength(piece, 'utf8');
    if (budget.bytes + bytes > budget.maxBytes) {
      throw new TemplateError(
        `${field}: the rendered templates pass ${budget.maxBytes} bytes (TEMPLATE_MAX_BYTES); nothing was sent`,
      );
    }
    budget.bytes += bytes;
    out.push(piece);
  };
  const step = () => {
    if (++budget.steps > budget.maxSteps) {
      throw new TemplateError(
        `${field}: rendering the templates takes more than ${budget.maxSteps} steps; nothing was sent`,
      );
    }
  };

  const walk = (list: Token[], frame: Frame) => {
    for (const token of list) {
      step();
      const [kind, name] = token;
      if (kind === 'text') emit(name);
      else if (kind === 'name' || kind === '&') {
        const value = asText(lookup(name, frame));
        if (value !== undefined) emit(kind === 'name' ? kongEscape(value) : value);
      } else if (kind === '#') {
        // Mustache's rules: falsy skips, an array repeats per element, an object or scalar becomes
        // the context, `true` renders once in the current one.
        const value = lookup(name, frame);
        const children = token[4] ?? [];
        if (!value) continue;
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            step();
            walk(children, { view: value[i], parent: frame });
          }
        } else if (typeof value === 'object' || typeof value === 'string' || typeof value === 'number') {
          walk(children, { view: value, parent: frame });
        } else walk(children, frame);
      } else if (kind === '^') {
        const value = lookup(name, frame);
        if (!value || (Array.isArray(value) && value.length === 0)) walk(token[4] ?? [], frame);
      }
      // Comments, delimiter changes and partials (refused when the hook is saved) render nothing.
    }
  };
  try {
    walk(tokens, { view: data, parent: undefined });
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    throw new TemplateError(`${field}: cannot render: ${(error as Error).message}`, { cause: error });
  }
  return out.join('');
}

/**
 * Renders every value of a string map, all against one budget. `field` prefixes the keys in error
 * messages. Keys are copied as own properties, so even `__proto__` stays a key.
 */
export function renderValues(
  values: Record<string, string>,
  data: Record<string, unknown>,
  budget: TemplateBudget = templateBudget(),
  field = 'values',
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, renderTemplate(value, data, budget, `${field}.${key}`)]),
  );
}

function parse(template: string): Token[] {
  return Mustache.parse(template) as unknown as Token[];
}

/**
 * A name as mustache resolves it: `.` is the current value; otherwise each level of the context
 * stack is tried in turn, innermost first, and a dotted path must resolve all the way down within
 * one level. Only own properties count, and a function is not data.
 */
function lookup(name: string, frame: Frame): unknown {
  if (name === '.') return plain(frame.view);
  const path = name.indexOf('.') > 0 ? name.split('.') : undefined;
  for (let level: Frame | undefined = frame; level; level = level.parent) {
    if (path) {
      // As in mustache, a dotted path may end in an own property of a string (`name.length`).
      let value: unknown = level.view;
      let hit = true;
      for (const key of path) {
        if (value === null || value === undefined || !Object.hasOwn(value as object, key)) {
          hit = false;
          break;
        }
        value = (value as Record<string, unknown>)[key];
      }
      if (hit) return plain(value);
    } else if (typeof level.view === 'object' && level.view !== null && Object.hasOwn(level.view, name)) {
      return plain((level.view as Record<string, unknown>)[name]);
    }
  }
  return undefined;
}

function plain(value: unknown): unknown {
  return typeof value === 'function' ? undefined : value;
}

/** What a value inserted with `{{ }}` or `{{{ }}}` stands for, before escaping; `undefined` renders nothing. */
function asText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object') return JSON.stringify(value) ?? '';
  return String(value);
}
