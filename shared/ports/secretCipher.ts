/**
 * Hook secrets at rest (docs/saas.md, "Secrets at rest"): the store keeps a hook's secret values
 * sealed, and only the paths that sign or send with them open them. Each adapter binds a value to its
 * tenant and hook, so a sealed value copied to another hook's item does not open there.
 */

/** What a sealed value is bound to (the additional authenticated data; KMS's encryption context). */
export interface SecretContext {
  tenant: string;
  hookId: string;
}

/**
 * A cipher for short secret values. Both calls take the values of one hook at once, so an adapter
 * with a remote key pays one call per hook, not per value.
 */
export interface SecretCipher {
  /** Seals each value; the results carry a versioned prefix (`enc:v1:`, `enc:kms1:`) that says how. */
  seal(values: readonly string[], context: SecretContext): Promise<string[]>;
  /**
   * Opens sealed values; a value without a sealed prefix is plaintext written before secrets were
   * sealed and comes back as it is.
   *
   * @throws SecretDecryptionError when a value does not open with this cipher's key and context
   */
  open(values: readonly string[], context: SecretContext): Promise<string[]>;
}

const SEALED = /^enc:(v1|kms1):/;

/** Whether a stored value is sealed (`enc:v1:…` or `enc:kms1:…`) rather than plaintext from before. */
export function isSealed(value: string): boolean {
  return SEALED.test(value);
}

/** A cipher that leaves values as they are: only for stores built in tests that predate sealing. */
export const plaintextCipher: SecretCipher = {
  seal: async (values) => [...values],
  open: async (values) => [...values],
};
