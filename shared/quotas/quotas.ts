import { type FieldErrors, SchemaViolationError } from '../errors.ts';
import { setOwn } from '../records.ts';

/**
 * What one tenant may spend (docs/saas.md § Quotas). Names are the API's (`GET /tenants/{id}/quotas`)
 * and, upper-cased with `QUOTA_` in front, the settings that give the deployment's defaults.
 */
export const QUOTA_NAMES = [
  'events_per_second',
  'hooks',
  'user_functions',
  'body_bytes',
  'deliveries_in_flight',
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** A tenant's quotas; `null` is no limit. */
export type Quotas = Record<QuotaName, number | null>;
/** What the operator set for one tenant; a quota left out takes the deployment's default. */
export type QuotaOverrides = Partial<Quotas>;

/** The largest value a quota takes: beyond it, `null` (no limit) says the same. */
export const MAX_QUOTA = 1_000_000_000;

/**
 * The defaults of a multi-tenant deployment: a tenant of a shared service gets a fair share. A
 * single-tenant deployment has no one to be fair to, so its defaults are no limit (the request
 * limits of docs/limits.md still apply).
 */
export function multiTenantDefaults(deliveryConcurrency: number): Quotas {
  return {
    events_per_second: 100,
    hooks: 100,
    user_functions: 20,
    body_bytes: 1024 * 1024,
    // Half the local queue's workers: a flooding tenant leaves the other half to everyone else.
    deliveries_in_flight: Math.max(1, Math.ceil(deliveryConcurrency / 2)),
  };
}

const NO_LIMIT: Quotas = {
  events_per_second: null,
  hooks: null,
  user_functions: null,
  body_bytes: null,
  deliveries_in_flight: null,
};

/**
 * The deployment's defaults: those of its tenancy, each replaced by its `QUOTA_*` setting when set
 * (`QUOTA_EVENTS_PER_SECOND` and so on; `setting` reads one: a count, `null` for no limit, or
 * `undefined` when unset).
 */
export function quotaDefaults(
  tenancy: 'single' | 'multi',
  deliveryConcurrency: number,
  setting: (variable: string) => number | null | undefined,
): Quotas {
  const quotas = tenancy === 'multi' ? multiTenantDefaults(deliveryConcurrency) : { ...NO_LIMIT };
  for (const name of QUOTA_NAMES) {
    const value = setting(`QUOTA_${name.toUpperCase()}`);
    if (value !== undefined) quotas[name] = value;
  }
  return quotas;
}

/** The quotas in force: the tenant's overrides over the defaults. */
export function effectiveQuotas(defaults: Quotas, overrides: QuotaOverrides): Quotas {
  const quotas = { ...defaults };
  for (const name of QUOTA_NAMES) if (Object.hasOwn(overrides, name)) quotas[name] = overrides[name] as number | null;
  return quotas;
}

/**
 * Checks the body of `PUT /tenants/{id}/quotas`: an object of quota names, each an integer from 0
 * to `MAX_QUOTA` or `null` (no limit). It replaces the tenant's overrides; a name left out goes
 * back to the default.
 */
export function parseQuotaOverrides(body: unknown): QuotaOverrides {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SchemaViolationError({ '@entity': ['expected an object of quotas'] });
  }
  const errors: FieldErrors = {};
  const overrides: QuotaOverrides = {};
  for (const [key, value] of Object.entries(body)) {
    if (!(QUOTA_NAMES as readonly string[]).includes(key)) {
      setOwn(errors, key, 'unknown field');
    } else if (
      value !== null &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_QUOTA)
    ) {
      setOwn(errors, key, `expected an integer from 0 to ${MAX_QUOTA}, or null for no limit`);
    } else {
      overrides[key as QuotaName] = value as number | null;
    }
  }
  if (Object.keys(errors).length > 0) throw new SchemaViolationError(errors);
  return overrides;
}
