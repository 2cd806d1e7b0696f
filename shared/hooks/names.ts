/**
 * The handler and signing scheme names, on their own so that hook.ts (the entity's types) and
 * schemas.ts (the schemas those types come from) both read them without importing each other, and
 * so that the web console (built for browsers) has the handler names without importing the handlers.
 * `HANDLER_NAMES` is the registry's list as plain text: shared/handlers/registry.ts does not compile
 * when they differ.
 */
export const HANDLER_NAMES = ['webhook', 'webhook-custom', 'log', 'lambda'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** How `webhook` and `webhook-custom` sign (beyond Kong; docs/signatures.md). Absent means `kong`. */
export const SIGNING_SCHEMES = ['kong', 'standard-webhooks'] as const;
export type SigningScheme = (typeof SIGNING_SCHEMES)[number];
