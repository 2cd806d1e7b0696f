import { awsSigner } from './sigV4.ts';

/** The two KMS calls the cipher makes (`kmsHttpApi` below); a test passes its own. */
export interface KmsApi {
  generateDataKey(input: {
    KeyId: string;
    KeySpec: 'AES_256';
    EncryptionContext: Record<string, string>;
  }): Promise<{ Plaintext?: Uint8Array | undefined; CiphertextBlob?: Uint8Array | undefined }>;
  decrypt(input: {
    KeyId: string;
    CiphertextBlob: Uint8Array;
    EncryptionContext: Record<string, string>;
  }): Promise<{ Plaintext?: Uint8Array | undefined }>;
}

export interface KmsHttpOptions {
  region?: string;
  /** Default: `AWS_ENDPOINT_URL_KMS`, then `https://kms.<region>.amazonaws.com`. */
  endpoint?: string;
  timeoutMs?: number;
}

/** A KMS error answer as an error named like the SDK's (`InvalidCiphertextException`, `ThrottlingException`…). */
class KmsError extends Error {
  readonly statusCode: number;
  constructor(name: string, message: string, statusCode: number) {
    super(message);
    this.name = name;
    this.statusCode = statusCode;
  }
}

/**
 * The two KMS calls as signed JSON requests (SigV4, the AWS JSON 1.1 protocol) over `fetch`. The
 * SDK's KMS client carries the shapes of every KMS operation (about 37 KB minified), which would push
 * the admin and delivery bundles past their 500 KB budget for two calls. Credentials come from the
 * SDK's provider (in a bundle, Lambda's environment: see lambdaCredentials.ts).
 */
export function kmsHttpApi(options: KmsHttpOptions = {}): KmsApi {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const url = new URL(options.endpoint ?? process.env.AWS_ENDPOINT_URL_KMS ?? `https://kms.${region}.amazonaws.com/`);
  const signer = awsSigner('kms', region);

  const call = async (operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${operation}`,
      },
      body,
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      // `__type` is `InvalidCiphertextException`, or that name after a namespace and `#`.
      const name = String(answer.__type ?? `KmsHttp${res.status}`)
        .split('#')
        .at(-1) as string;
      throw new KmsError(name, String(answer.message ?? answer.Message ?? `KMS ${operation} failed`), res.status);
    }
    return answer;
  };
  const blob = (value: unknown) => (typeof value === 'string' ? Buffer.from(value, 'base64') : undefined);

  return {
    async generateDataKey(input) {
      const answer = await call('GenerateDataKey', input);
      return { Plaintext: blob(answer.Plaintext), CiphertextBlob: blob(answer.CiphertextBlob) };
    },
    async decrypt(input) {
      const answer = await call('Decrypt', {
        ...input,
        CiphertextBlob: Buffer.from(input.CiphertextBlob).toString('base64'),
      });
      return { Plaintext: blob(answer.Plaintext) };
    },
  };
}
