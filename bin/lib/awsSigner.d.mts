// Types of awsSigner.mjs, for the TypeScript tests that import it.
export declare class Sha256 {
  constructor(secret?: string | ArrayBuffer | ArrayBufferView);
  reset(): void;
  update(data: string | ArrayBuffer | ArrayBufferView): void;
  digest(): Promise<Uint8Array>;
}
export declare function signingRegion(
  flag: string | undefined,
  base: string,
  env?: Record<string, string | undefined>,
): string | undefined;
export declare function awsSigner(options: {
  region: string;
}): Promise<
  (request: {
    method: string;
    url: URL;
    headers: Record<string, string>;
    body?: string;
  }) => Promise<Record<string, string>>
>;
