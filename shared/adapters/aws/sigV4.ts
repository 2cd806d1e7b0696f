import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** AWS credentials, or what yields them (the SDK's provider chain by default). */
export type AwsCredentials =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);

/** SHA-256 for the signer, from node:crypto: the SDK's own brings a browser fallback we never run. */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * A SigV4 signer of one service, for the few AWS calls made as plain HTTP requests instead of through
 * an SDK client (see kmsApi.ts, lambdaInvokeApi.ts). Credentials come from the SDK's provider unless
 * given (in a bundle, Lambda's environment: see lambdaCredentials.ts).
 */
export function awsSigner(service: string, region: string, credentials?: AwsCredentials): SignatureV4 {
  return new SignatureV4({ credentials: credentials ?? defaultProvider(), region, service, sha256: NodeSha256 });
}
