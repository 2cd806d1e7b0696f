/** The event hook entity, exactly as the Admin API returns it (Kong's shape). */

export const HANDLER_NAMES = ['webhook', 'webhook-custom', 'log', 'lambda'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** How `webhook` and `webhook-custom` sign (beyond Kong; docs/signatures.md). Absent means `kong`. */
export const SIGNING_SCHEMES = ['kong', 'standard-webhooks'] as const;
export type SigningScheme = (typeof SIGNING_SCHEMES)[number];

/**
 * The secret a rotation replaced, still signing beside `secret` until `expires_at` (Unix seconds):
 * `standard-webhooks` only. Set by `POST /event-hooks/{id}/secret/rotate`, never by the client.
 */
export interface PreviousSecret {
  secret: string;
  expires_at: number;
}

/** The signing fields of both webhook configs; absent in a hook that never used them (Kong's shape). */
interface SigningFields {
  signing?: SigningScheme;
  previous_secret?: PreviousSecret;
}

export interface WebhookConfig extends SigningFields {
  url: string;
  headers: Record<string, string>;
  secret: string | null;
  ssl_verify: boolean;
}

export interface WebhookCustomConfig extends SigningFields {
  url: string;
  method: string;
  payload: Record<string, string> | null;
  payload_format: boolean;
  body: string | null;
  body_format: boolean;
  headers: Record<string, string> | null;
  headers_format: boolean;
  secret: string | null;
  ssl_verify: boolean;
}

export type LogConfig = Record<string, never>;

export interface LambdaConfig {
  /** Each entry is user code (a JavaScript function body returning a function) or an AWS Lambda name/ARN. */
  functions: string[];
}

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
export interface HookDeployment {
  state: 'pending' | 'active' | 'failed';
  /** Why the deployment failed. */
  error?: string;
}

/** An EventBridge event pattern matched against an event's `data` (beyond Kong; see docs/rules.md). */
export type EventPattern = Record<string, unknown>;

/** Fire once when `count` matching events arrive within one tumbling window of `window` seconds (beyond Kong). */
export interface Threshold {
  count: number;
  window: number;
}

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
