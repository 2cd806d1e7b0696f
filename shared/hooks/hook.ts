import type { Static } from '@sinclair/typebox';
import type {
  HookDeploymentSchema,
  LambdaConfigSchema,
  PreviousSecretSchema,
  ThresholdSchema,
  WebhookConfigSchema,
  WebhookCustomConfigSchema,
} from './schemas.ts';

/** The event hook entity, exactly as the Admin API returns it (Kong's shape). */

import type { HandlerName } from './names.ts';

// Declared in names.ts, which the schemas (schemas.ts) also read: this module only takes types from them.
export { HANDLER_NAMES, type HandlerName, SIGNING_SCHEMES, type SigningScheme } from './names.ts';

/**
 * The secret a rotation replaced, still signing beside `secret` until `expires_at` (Unix seconds):
 * `standard-webhooks` only. Set by `POST /event-hooks/{id}/secret/rotate`, never by the client.
 */
export type PreviousSecret = Static<typeof PreviousSecretSchema>;

// The configs as stored, from their schemas (schemas.ts); `signing` and `previous_secret` are absent in a hook that never used them (Kong's shape).
export type WebhookConfig = Static<typeof WebhookConfigSchema>;
/** `method` is one of `HTTP_METHODS` once validated; typed as text so that hooks built in code need no cast. */
export interface WebhookCustomConfig extends Omit<Static<typeof WebhookCustomConfigSchema>, 'method'> {
  method: string;
}

export type LogConfig = Record<string, never>;

/** Each entry is user code (a JavaScript function body returning a function) or an AWS Lambda name/ARN. */
export type LambdaConfig = Static<typeof LambdaConfigSchema>;

export interface HandlerConfigs {
  webhook: WebhookConfig;
  'webhook-custom': WebhookCustomConfig;
  log: LogConfig;
  lambda: LambdaConfig;
}

/**
 * Where the user functions of a `lambda` hook with inline code stand (beyond Kong). `pending` until the
 * deploy worker has made every function `Active`; deliveries wait meanwhile. Read-only: the service sets it.
 */
export type HookDeployment = Static<typeof HookDeploymentSchema>;

/** An EventBridge event pattern matched against an event's `data` (beyond Kong; see docs/rules.md). */
export type EventPattern = Record<string, unknown>;

/** Fire once when `count` matching events arrive within one tumbling window of `window` seconds (beyond Kong). */
export type Threshold = Static<typeof ThresholdSchema>;

interface HookBase<H extends HandlerName> {
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
  config: HandlerConfigs[H];
  /** Only on `lambda` hooks with inline code; Kong's shape otherwise. */
  deployment?: HookDeployment;
}

export type EventHook = { [H in HandlerName]: HookBase<H> }[HandlerName];
export type HookOf<H extends HandlerName> = HookBase<H>;

/** Tenant used by single-tenant deployments and the local runtime. */
export const DEFAULT_TENANT = 'default';
