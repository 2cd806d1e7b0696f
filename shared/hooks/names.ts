/**
 * The handler and signing scheme names, on their own so that hook.ts (the entity's types) and
 * schemas.ts (the schemas those types come from) both read them without importing each other.
 */
export const HANDLER_NAMES = ['webhook', 'webhook-custom', 'log', 'lambda'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** How `webhook` and `webhook-custom` sign (beyond Kong; docs/signatures.md). Absent means `kong`. */
export const SIGNING_SCHEMES = ['kong', 'standard-webhooks'] as const;
export type SigningScheme = (typeof SIGNING_SCHEMES)[number];
