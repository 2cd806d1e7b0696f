import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type AwsCredentials, awsSigner } from './sigV4.ts';

/** One synchronous invocation's answer: the payload, and what Lambda said about it in its headers. */
export interface LambdaInvokeResult {
  /** The function's result, or its error object when `functionError` is set. */
  payload: Buffer;
  /** `X-Amz-Function-Error` (`Unhandled`, `Handled`): the function itself failed. */
  functionError?: string;
  /** `X-Amz-Log-Result`: the last 4 KB of the invocation's log, base64. */
  logResult?: string;
}

/** Lambda's Invoke API, synchronous with the log tail (`lambdaInvokeHttpApi` below); a test passes its own. */
export interface LambdaInvokeApi {
  invoke(functionName: string, payload: Uint8Array): Promise<LambdaInvokeResult>;
}

export interface LambdaInvokeHttpOptions {
  region?: string;
  /** Default: `AWS_ENDPOINT_URL_LAMBDA`, then `https://lambda.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Default: the SDK's provider chain (Lambda's environment in a bundle). */
  credentials?: AwsCredentials;
}

/**
 * A Lambda error answer as an error shaped like the SDK's service exceptions: named after the
 * exception (`TooManyRequestsException`, `ResourceNotFoundException`…), with `$fault` and
 * `$metadata.httpStatusCode`, so `awsErrorName`/`awsFault` read it as they read the SDK's.
 */
export class LambdaServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string, statusCode: number) {
    super(message);
    this.name = name;
    this.$fault = statusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: statusCode };
  }
}

/** A reference split as the Invoke API takes it: the function (name or ARN) and its version or alias, if any. */
export function invokeTarget(reference: string): { functionName: string; qualifier?: string } {
  const parts = reference.split(':');
  // `name:qualifier`, or an ARN `arn:aws:lambda:<region>:<account>:function:<name>:<qualifier>`.
  const functionParts = reference.startsWith('arn:') ? 7 : 1;
  if (parts.length <= functionParts) return { functionName: reference };
  return { functionName: parts.slice(0, functionParts).join(':'), qualifier: parts.slice(functionParts).join(':') };
}

/**
 * Lambda's Invoke API (`RequestResponse`, `Tail`) as one SigV4-signed HTTP request. The SDK's Lambda
 * client carries the shapes, waiters and protocol code of every Lambda operation (about 72 KB
 * minified) that the admin and delivery bundles, which only invoke, would carry for this one call.
 * Requests go through node:http(s) with keep-alive, as the SDK's; no timeout of their own either: a
 * synchronous invocation lasts up to the function's timeout.
 */
export function lambdaInvokeHttpApi(options: LambdaInvokeHttpOptions = {}): LambdaInvokeApi {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const base = new URL(
    options.endpoint ?? process.env.AWS_ENDPOINT_URL_LAMBDA ?? `https://lambda.${region}.amazonaws.com`,
  );
  const signer = awsSigner('lambda', region, options.credentials);
  const secure = base.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const basePath = base.pathname.replace(/\/$/, '');

  return {
    async invoke(reference, payload) {
      const { functionName, qualifier } = invokeTarget(reference);
      const path = `${basePath}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
      const query = qualifier === undefined ? undefined : { Qualifier: qualifier };
      const body = Buffer.from(payload);
      const signed = await signer.sign({
        method: 'POST',
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        ...(query ? { query } : {}),
        headers: {
          host: base.host,
          'content-type': 'application/json',
          'content-length': String(body.length),
          'x-amz-invocation-type': 'RequestResponse',
          // The last 4 KB of the invocation's log, returned to the caller: user code's role writes no logs.
          'x-amz-log-type': 'Tail',
        },
        body,
      });
      const search = query ? `?Qualifier=${encodeURIComponent(query.Qualifier)}` : '';
      const response = await send(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          ...(base.port ? { port: Number(base.port) } : {}),
          path: `${path}${search}`,
          method: 'POST',
          headers: signed.headers,
          agent,
        },
        body,
        secure,
      );
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === 'string' && value !== '' ? value : undefined;
      };
      if (response.status < 200 || response.status >= 300) {
        throw serviceError(response.status, header('x-amzn-errortype'), response.body);
      }
      const functionError = header('x-amz-function-error');
      const logResult = header('x-amz-log-result');
      return {
        payload: response.body,
        ...(functionError ? { functionError } : {}),
        ...(logResult ? { logResult } : {}),
      };
    },
  };
}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function send(request: RequestOptions, body: Buffer, secure: boolean): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(request, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The exception an error answer names, as the SDK reads it (REST-JSON): the `x-amzn-ErrorType` header
 * first, then the body's `code` or `__type`, each without a namespace (`…#`) or a URL suffix (`:http…`).
 * The body's `Type` is `User` or `Service`, not the exception.
 */
function serviceError(status: number, errorType: string | undefined, raw: Buffer): LambdaServiceError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status alone tells.
  }
  const named = errorType ?? body.code ?? body.__type;
  const name =
    typeof named === 'string' && named !== ''
      ? (named.split(':')[0]!.split('#').at(-1) as string)
      : `LambdaHttp${status}`;
  const message = body.message ?? body.Message ?? `Lambda Invoke failed with HTTP ${status}`;
  return new LambdaServiceError(name, String(message), status);
}
