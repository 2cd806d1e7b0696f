/**
 * Who is calling: decided once, at the edge (the local front's key check, or the Lambda authorizer
 * on AWS), and carried on the request. Nothing in the path, body, event or headers can choose or
 * change the tenant; handlers read it from here only.
 */

/** What a tenant key may do (docs/saas.md has the route → scope table). */
export const SCOPES = ['admin', 'ingest', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  /** The tenant every store key of this request is scoped by. */
  tenant: string;
  /** What the key may do; an operator principal holds none of these and calls only operator routes. */
  scopes: readonly Scope[];
  /** The API key's id (never the key), for the audit log; absent when auth is off. */
  keyId?: string;
  /** The deployment's operator (`OPERATOR_KEY` locally, IAM on AWS): `/tenants*` and `/metrics`. */
  operator?: boolean;
}

/** Resolves a presented API key to its principal, or `undefined` for an unknown or revoked key. */
export interface ApiKeyResolver {
  resolve(key: string): Promise<Principal | undefined>;
}
