// `--aws`: signs each request with the caller's AWS credentials (SigV4, service `execute-api`), as an
// IAM deployment's API Gateway requires. The SDK packages load only when the flag is given.
import { createHash, createHmac } from 'node:crypto';

/** SHA-256 (or its HMAC with a secret) in the shape the signer asks for, from node:crypto. */
class Sha256 {
  /** @param {string | ArrayBuffer | ArrayBufferView} [secret] */
  constructor(secret) {
    this.secret = secret;
    this.reset();
  }
  reset() {
    this.hash = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  /** @param {string | ArrayBuffer | ArrayBufferView} data */
  update(data) {
    this.hash.update(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/**
 * The region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the one in an
 * `execute-api` host name (`<id>.execute-api.<region>.amazonaws.com`); `undefined` when none says.
 * @param {string | undefined} flag @param {string} base
 * @returns {string | undefined}
 */
export function signingRegion(flag, base, env = process.env) {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(base).hostname)?.[1];
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? fromHost;
}

/**
 * A function that signs one request and returns the headers to send. Credentials come from the
 * SDK's default chain (environment, shared config and SSO, container and instance roles), resolved once.
 * @param {{ region: string }} options
 */
export async function awsSigner(options) {
  const [{ SignatureV4 }, { fromNodeProviderChain }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-sdk/credential-providers'),
  ]);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: fromNodeProviderChain(),
    sha256: Sha256,
  });
  /**
   * @param {{ method: string, url: URL, headers: Record<string, string>, body?: string }} request
   * @returns {Promise<Record<string, string>>}
   */
  return async ({ method, url, headers, body }) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      // `host` is signed; fetch sends the same value itself.
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    const { host: _host, ...rest } = signed.headers;
    return rest;
  };
}

export { Sha256 };
