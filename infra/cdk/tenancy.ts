/**
 * The two settings of issue 11 on AWS, as construct props and CDK context (`-c tenancy=multi
 * -c authMode=api-keys`): one place decides what they mean and refuses combinations that cannot
 * work, at synth, with a message that says what to change.
 */

/** `TENANCY`: one tenant per deployment (default), or many, each with its own keys. */
export const TENANCIES = ['single', 'multi'] as const;
export type Tenancy = (typeof TENANCIES)[number];

/**
 * `AUTH_MODE` on AWS: `iam` (default; every route but `/health` SigV4-signed, any caller with
 * `execute-api:Invoke` is a full admin), `api-keys` (tenant keys checked by the Lambda authorizer,
 * operator routes IAM), or `none` (no auth on tenant routes; operator routes stay IAM).
 */
export const AUTH_MODES = ['none', 'api-keys', 'iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface AccessProps {
  tenancy?: Tenancy;
  authMode?: AuthMode;
  adminIamAuth?: boolean;
  ingestIamAuth?: boolean;
}

/** What the stack builds from the settings. */
export interface AccessSettings {
  tenancy: Tenancy;
  authMode: AuthMode;
  /** IAM on the Admin API routes (`iam` mode, unless `adminIamAuth: false`). */
  adminIamAuth: boolean;
  /** IAM on `POST /events` and `POST /ingest/*` (`iam` mode, unless `ingestIamAuth: false`). */
  ingestIamAuth: boolean;
}

/** Thrown at synth for settings that cannot work together. */
export class AccessSettingsError extends Error {}

export function accessSettings(props: AccessProps): AccessSettings {
  const tenancy = props.tenancy ?? 'single';
  const authMode = props.authMode ?? 'iam';
  if (!TENANCIES.includes(tenancy)) {
    throw new AccessSettingsError(`tenancy must be one of ${TENANCIES.join(', ')}, got '${String(tenancy)}'`);
  }
  if (!AUTH_MODES.includes(authMode)) {
    throw new AccessSettingsError(`authMode must be one of ${AUTH_MODES.join(', ')}, got '${String(authMode)}'`);
  }
  if (tenancy === 'multi' && authMode !== 'api-keys') {
    throw new AccessSettingsError(
      `tenancy 'multi' requires authMode 'api-keys' (got '${authMode}'): the key is what decides the tenant of a request`,
    );
  }
  if (authMode !== 'iam') {
    for (const name of ['adminIamAuth', 'ingestIamAuth'] as const) {
      if (props[name] !== undefined) {
        throw new AccessSettingsError(
          `${name} applies to authMode 'iam' only; with authMode '${authMode}' leave it out`,
        );
      }
    }
  }
  return {
    tenancy,
    authMode,
    adminIamAuth: authMode === 'iam' && (props.adminIamAuth ?? true),
    ingestIamAuth: authMode === 'iam' && (props.ingestIamAuth ?? true),
  };
}
