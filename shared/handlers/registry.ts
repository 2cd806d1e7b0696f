import type {
  EventHook,
  HANDLER_NAMES,
  HandlerConfigs,
  HandlerName,
  PreviousSecret,
  SigningScheme,
} from '../hooks/hook.ts';
import { createRegistry } from './definition.ts';
import { lambdaHandler, lambdaUserCode } from './lambda.ts';
import { logHandler } from './log.ts';
import { webhookHandler } from './webhook.ts';
import { webhookCustomHandler } from './webhookCustom.ts';

/**
 * The handlers this service knows, one line each, in the order `expected one of:` lists them. A new
 * handler is its module (shared/handlers/<name>.ts, exporting a `defineHandler(...)`) and one line
 * here (CONTRIBUTING.md, "Adding a handler").
 */
// biome-ignore format: one handler a line
export const HANDLER_DEFINITIONS = [
  webhookHandler,
  webhookCustomHandler,
  logHandler,
  lambdaHandler,
] as const;

// Pure: a bundle that never looks a handler up (the authorizer) leaves the handlers out.
export const HANDLERS = /* @__PURE__ */ createRegistry(HANDLER_DEFINITIONS);

/**
 * `HANDLER_NAMES` (shared/hooks/names.ts) is the same list as plain text, for what may not import the
 * handlers (the web console, built for browsers); the hook's `HandlerConfigs` entries come from the
 * handler modules. This fails to compile, naming the odd one out, when the three disagree.
 */
type Registered = (typeof HANDLER_DEFINITIONS)[number]['name'];
type Named = (typeof HANDLER_NAMES)[number];
/** A name whose module declares no config type (its `HandlerConfigs` entry is still `unknown`). */
type Undeclared = { [H in Named]: unknown extends HandlerConfigs[H] ? H : never }[Named];
type Mismatch = Exclude<Registered, Named> | Exclude<Named, Registered> | Undeclared;
export const REGISTRY_MATCHES_HANDLER_NAMES: [Mismatch] extends [never] ? true : Mismatch = true;

/**
 * The resource hooks (`userCode`) of the handlers that deploy something, one line each: the very
 * functions their definitions give, listed apart so that what reads nothing else of a handler (the
 * deploy worker, the sweeper) bundles neither the handlers' factories nor their schemas and templates.
 * test/shared/handlers/registry.test.ts checks that it lists exactly the definitions that have one.
 */
// biome-ignore format: one handler a line
export const USER_CODE_HOOKS: { readonly [H in HandlerName]?: (config: HandlerConfigs[H]) => readonly string[] | undefined } = {
  lambda: lambdaUserCode,
};

/** The entries the function runner deploys for a hook, by its handler's resource hook; `undefined`: none. */
export function userCodeOf(hook: EventHook): readonly string[] | undefined {
  const userCode = USER_CODE_HOOKS[hook.handler] as ((config: EventHook['config']) => readonly string[]) | undefined;
  return userCode?.(hook.config);
}

/** A hook whose handler signs its requests (`signed`): its config has the secret, the scheme and a rotation's old secret. */
export type SignedHook = Extract<
  EventHook,
  { config: { secret: string | null; signing?: SigningScheme; previous_secret?: PreviousSecret } }
>;

/** Whether the hook's handler signs its requests (its definition's `signed`). */
export function isSignedHook(hook: EventHook): hook is SignedHook {
  return HANDLERS.get(hook.handler)?.signed === true;
}

/** The handlers that sign, by name (`webhook`, `webhook-custom`), for messages. */
export function signedHandlerNames(): string[] {
  return HANDLERS.definitions.filter((definition) => definition.signed).map((definition) => definition.name);
}
