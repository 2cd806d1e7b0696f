// Types of importKong.mjs, for the TypeScript tests that import it.
export declare function readKongHooks(
  adminUrl: string,
  options?: { token?: string; workspace?: string },
): Promise<Record<string, unknown>[]>;
