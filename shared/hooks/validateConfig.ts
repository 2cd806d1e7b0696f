import type { TObject } from '@sinclair/typebox';
import type { FieldErrors } from '../errors.ts';
import { clientConfigSchema, type HandlerDefinition, type HandlerRegistry } from '../handlers/definition.ts';
import { HANDLERS } from '../handlers/registry.ts';
import { compile, kongErrors, REQUIRED, type SchemaCheck } from '../schema/kongErrors.ts';
import type { ConfigOf } from './hook.ts';
import { fail, isPlainObject, type Outcome, ok, type ConfigOptions as RefineOptions } from './refinements.ts';
import { LIMITS, withDefaults } from './schemas.ts';

/**
 * A hook's `config` checked against its handler's schema (the handler's module, found in the
 * registry), then the handler's refinements, the checks a schema cannot express, all reported in
 * Kong's words by the one formatter (shared/schema/kongErrors.ts).
 */

export { REQUIRED, UNKNOWN } from '../schema/kongErrors.ts';
export {
  checkBoolean,
  checkInteger,
  checkOneOf,
  checkString,
  checkUrl,
  type FieldError,
  isPlainObject,
  type Outcome,
  setOwn,
} from './refinements.ts';
export { HTTP_METHODS, LIMITS } from './schemas.ts';

/** Options of the handlers' refinements, and the registry to look the handler up in (the service's own when absent). */
export interface ConfigOptions extends RefineOptions {
  handlers?: HandlerRegistry;
}

/**
 * Client config checks, compiled on first use per handler: only the Admin API validates configs,
 * so the other functions never pay for compiling them.
 */
const CHECKS = new WeakMap<HandlerDefinition, SchemaCheck<TObject>>();

function checkOf(definition: HandlerDefinition): SchemaCheck<TObject> {
  let check = CHECKS.get(definition);
  if (!check) {
    check = compile(clientConfigSchema(definition));
    CHECKS.set(definition, check);
  }
  return check;
}

/**
 * Validates a hook's `config` for its handler and fills in defaults. An absent `config` counts as
 * `{}` (so `log` needs none and `webhook` reports `url` missing); `null` is `required field missing`.
 *
 * @example validateConfig('log', undefined, {}) // → { ok: true, value: {} }
 */
export function validateConfig<H extends string>(
  handler: H,
  raw: unknown,
  options: ConfigOptions,
): Outcome<ConfigOf<H>> {
  const registry = options.handlers ?? HANDLERS;
  const definition = registry.get(handler);
  if (!definition) return fail(`expected one of: ${registry.names.join(', ')}`);
  if (raw === null) return fail(REQUIRED);
  const input = raw === undefined ? {} : raw;
  if (!isPlainObject(input)) return fail('expected a record');
  const config = withDefaults(clientConfigSchema(definition), input);
  definition.normalise?.(config);
  const errors: FieldErrors = kongErrors(checkOf(definition), config);
  definition.refine?.(config, errors, options);
  if (Object.keys(errors).length > 0) return fail(errors);
  const bytes = Buffer.byteLength(JSON.stringify(config), 'utf8');
  if (bytes > LIMITS.configBytes) return fail(`encoded size must be at most ${LIMITS.configBytes} bytes`);
  // The schema accepted every field.
  return ok(config as ConfigOf<H>);
}
