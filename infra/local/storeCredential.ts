import { createHash, createHmac, type Hash, type Hmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The embedded store's per-start credential. dynalite checks no signature at all, so anything that
 * can reach its port (a hook's URL, user code) could read every hook's secret with a dummy
 * `Authorization`. A check in front of it refuses every request that is not SigV4-signed with the
 * key generated at this start: the signature itself is verified (with the AWS SDK's own signer), so
 * knowing the key id alone is not enough.
 */

export interface StoreCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A fresh random key for one start of the embedded store; it lives only in this process. */
export function newStoreCredentials(): StoreCredentials {
  return {
    accessKeyId: `EVENTHOOKS${randomBytes(10).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
}

/** DynamoDB's own answers to unauthenticated requests (always 400, as DynamoDB answers them). */
export interface StoreRefusal {
  type: 'MissingAuthenticationTokenException' | 'UnrecognizedClientException' | 'InvalidSignatureException';
  message: string;
}

/** DynamoDB's allowed clock skew for a signed request. */
const MAX_SKEW_MS = 15 * 60 * 1000;
/** dynalite's own request size limit. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The SHA-256 (or HMAC-SHA256 with a key) the signer asks for, on node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const refusal = (type: StoreRefusal['type'], message: string): StoreRefusal => ({ type, message });
const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';

/**
 * Checks one request's SigV4 `Authorization` against `credentials`; `undefined` when it is signed by them.
 *
 * @example
 * await verifyStoreRequest(credentials, { method: 'POST', url: '/', headers }, body, Date.now()) // undefined
 */
export async function verifyStoreRequest(
  credentials: StoreCredentials,
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  body: Buffer,
  nowMs: number,
): Promise<StoreRefusal | undefined> {
  const header = request.headers.authorization;
  if (!header) return refusal('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  const parts = AUTHORIZATION.exec(header.trim());
  if (!parts) return refusal('InvalidSignatureException', 'Malformed Authorization header.');
  const [, keyId = '', shortDate = '', region = '', service = '', signedList = '', signature = ''] = parts;
  if (keyId !== credentials.accessKeyId) {
    return refusal('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const signedHeaders = signedList.split(';');
  const amzDate = request.headers['x-amz-date'];
  const date = typeof amzDate === 'string' ? AMZ_DATE.exec(amzDate) : null;
  if (!date || !signedHeaders.includes('x-amz-date') || !signedHeaders.includes('host')) {
    return refusal('InvalidSignatureException', 'The request must sign the host and x-amz-date headers.');
  }
  const [, y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = date.map(Number);
  const signingDate = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (Math.abs(nowMs - signingDate.getTime()) > MAX_SKEW_MS || !(amzDate as string).startsWith(shortDate)) {
    return refusal(
      'InvalidSignatureException',
      'Signature expired or not yet valid: the request time is too far from the server time.',
    );
  }

  // The signer trusts a signed x-amz-content-sha256 as the body's hash; it must be the hash of these bytes.
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(body).digest('hex')) {
    return refusal(
      'InvalidSignatureException',
      'The provided x-amz-content-sha256 header does not match the request body.',
    );
  }
  const url = new URL(request.url, 'http://store');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return refusal('InvalidSignatureException', `Signed header '${name}' is missing.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] as string) : values;
  }
  const signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: true });
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: 'store', path: url.pathname, query, headers, body },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
  const same = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return same ? undefined : refusal('InvalidSignatureException', BAD_SIGNATURE);
}

function answer(res: ServerResponse, status: number, body?: StoreRefusal): void {
  const text = body ? JSON.stringify({ __type: `com.amazon.coral.service#${body.type}`, message: body.message }) : '';
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomBytes(26).toString('hex').toUpperCase(),
  });
  res.end(text);
}

/**
 * Wraps dynalite's request handler: the body is read, the signature verified, and only then is the
 * request handed on, replayed from the bytes already read.
 */
export function requireSignature(credentials: StoreCredentials, handle: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > MAX_REQUEST_BYTES) {
        answer(res, 413);
        return;
      }
      const body = Buffer.concat(chunks);
      verifyStoreRequest(
        credentials,
        { method: req.method ?? '', url: req.url ?? '/', headers: req.headers },
        body,
        Date.now(),
      )
        .catch(() => refusal('InvalidSignatureException', BAD_SIGNATURE))
        .then((refused) => {
          if (refused) answer(res, 400, refused);
          else handle(replay(req, body), res);
        });
    });
  };
}

/**
 * The request again, with the body already read: dynalite reads `method`, `url`, `headers` and the
 * `data`/`end` events, which a readable stream of the same bytes provides.
 */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = Readable.from(body.length > 0 ? [body] : [], { objectMode: false });
  // dynalite uses only what is assigned here; the cast names the object by the role it plays.
  return Object.assign(stream, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}
