import type { Static } from '@sinclair/typebox';
import type { HandlerName } from './names.ts';
import type { HookDeploymentSchema, PreviousSecretSchema, ThresholdSchema } from './schemas.ts';

/** The event hook entity, exactly as the Admin API returns it (Kong's shape). */

// Declared in names.ts, which the schemas (schemas.ts) also read: this module only takes types from them.
export { HANDLER_NAMES, type HandlerName, SIGNING_SCHEMES, type SigningScheme } from './names.ts';

/**
 * The secret a rotation replaced, still signing beside `secret` until `expires_at` (Unix seconds):
 * `standard-webhooks` only. Set by `POST /event-hooks/{id}/secret/rotate`, never by the client.
 */
export type PreviousSecret = Static<typeof PreviousSecretSchema>;

/**
 * Each handler's config as stored, by handler name. Every handler module (shared/handlers/<name>.ts)
 * adds its own entry, from its schema, by declaration merging: this module is also read by the web
 * console, which is type-checked for the browser, so it may not import the handlers (they import
 * Node's crypto and http); there every entry is `unknown`. The registry (shared/handlers/registry.ts)
 * checks at compile time that every registered handler declared its entry and that the registered
 * names are `HANDLER_NAMES`.
 */
export interface HandlerConfigs extends Record<HandlerName, unknown> {}

/** The config type of a handler as its module declares it; a plain record for a name no module declares. */
export type ConfigOf<H extends string> = H extends keyof HandlerConfigs ? HandlerConfigs[H] : Record<string, unknown>;

// The configs under their own names, for code that builds hooks (and the tests).
export type WebhookConfig = HandlerConfigs['webhook'];
export type WebhookCustomConfig = HandlerConfigs['webhook-custom'];
export type LogConfig = HandlerConfigs['log'];
export type LambdaConfig = HandlerConfigs['lambda'];

/**
 * Where the user functions of a `lambda` hook with inline code stand (beyond Kong). `pending` until the
 * deploy worker has made every function `Active`; deliveries wait meanwhile. Read-only: the service sets it.
 */
export type HookDeployment = Static<typeof HookDeploymentSchema>;

/** An EventBridge event pattern matched against an event's `data` (beyond Kong; see docs/rules.md). */
export type EventPattern = Record<string, unknown>;

/** Fire once when `count` matching events arrive within one tumbling window of `window` seconds (beyond Kong). */
export type Threshold = Static<typeof ThresholdSchema>;

/** A hook of handler `H` whose config is a `C`: the entity whatever the handler, generic so handler modules need not know the union. */
export interface HookEntity<H extends string, C> {
  id: string;
  created_at: number;
  source: string;
  event: string | null;
  handler: H;
  on_change: boolean | null;
  snooze: number | null;
  /**
   * Only events whose data match fire the hook; `null`: every event. The API always answers it
   * (`null` when unset); optional here only so hooks built in code may leave it out.
   */
  filter?: EventPattern | null;
  /** Counts matching events and fires once per window at the count; `null`: every event fires. Always answered, like `filter`. */
  threshold?: Threshold | null;
  /**
   * `false`: the dispatcher skips the hook (outcome `disabled`), by the user's choice or after long
   * failure (beyond Kong). Always answered (`true` when unset); optional here for hooks built in code.
   */
  enabled?: boolean;
  config: C;
  /** Only on hooks whose handler deploys user code (`lambda` with inline code); Kong's shape otherwise. */
  deployment?: HookDeployment;
}

export type HookOf<H extends HandlerName> = HookEntity<H, HandlerConfigs[H]>;
export type EventHook = { [H in HandlerName]: HookOf<H> }[HandlerName];

/** Tenant used by single-tenant deployments and the local runtime. */
export const DEFAULT_TENANT = 'default';
