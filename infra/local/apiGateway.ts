import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** A Lambda handler as API Gateway calls it. */
export type HttpLambda = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: string | '*';
  /** Matches the request path exactly, or every path when `'*'`. */
  path: string | '*';
  handler: HttpLambda;
}

/** Lambda's synchronous payload limit; API Gateway's own is larger, Lambda's is the one that bites. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A node request as API Gateway's HTTP API (payload format 2.0) hands it to Lambda. */
export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, requestId: string): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies.push(...(Array.isArray(value) ? value : value.split('; ')));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const textual = /json|text|x-www-form-urlencoded|^$/.test(headers['content-type'] ?? '');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(cookies.length ? { cookies } : {}),
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !textual && body.length > 0,
    ...(body.length > 0 ? { body: textual ? body.toString('utf8') : body.toString('base64') } : {}),
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

/** An oversized body is read and dropped up to this size; past it the connection is cut. */
const DRAIN_LIMIT_BYTES = 4 * MAX_PAYLOAD_BYTES;

/**
 * The body, or `undefined` when it is over `limit`. An oversized body is still read to its end and
 * dropped (up to DRAIN_LIMIT_BYTES): closing the connection while it is arriving makes the kernel
 * reset it, and the client gets EPIPE or ECONNRESET instead of the 413.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_LIMIT_BYTES) return undefined;
  let over = declared > limit;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_LIMIT_BYTES) return undefined;
    if (size > limit) over = true;
    if (!over) chunks.push(chunk as Buffer);
  }
  return over ? undefined : Buffer.concat(chunks);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Why a request is refused before it reaches a handler: the local API has no authentication, so a
 * web page in the developer's browser must not drive it. Browsers send `Origin` on cross-origin
 * requests (even "simple" ones that need no preflight), and a `Host` other than a loopback name on a
 * loopback listener means DNS rebinding.
 */
export function refusal(headers: IncomingMessage['headers'], loopbackOnly: boolean): string | undefined {
  const host = headers.host ?? '';
  if (loopbackOnly) {
    const name = host.replace(/:\d+$/, '').toLowerCase();
    if (!LOOPBACK_NAMES.has(name)) return `requests for host '${host}' are refused`;
  }
  const origin = headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost !== host) return 'cross-origin requests are refused';
  }
  return undefined;
}

/**
 * The local stand-in for API Gateway: each request becomes a v2 event for the route's Lambda
 * handler (the same code that runs on AWS), and the handler's result becomes the response.
 */
export function createApiGatewayServer(
  routes: Route[],
  options: { onError?: (error: unknown) => void; loopbackOnly?: boolean } = {},
): Server {
  return createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const refused = refusal(req.headers, options.loopbackOnly ?? false);
      if (refused) return send(res, 403, JSON.stringify({ message: refused }));
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = routes.find(
        (r) => (r.path === '*' || r.path === path) && (r.method === '*' || r.method === req.method),
      );
      if (!route) return send(res, 404, JSON.stringify({ message: 'Not found' }));
      const body = await readBody(req, MAX_PAYLOAD_BYTES);
      if (!body) {
        res.setHeader('connection', 'close');
        return send(res, 413, JSON.stringify({ message: `request body is larger than ${MAX_PAYLOAD_BYTES} bytes` }));
      }
      const event = toApiGatewayEvent(req, body, requestId);
      const result = await route.handler(event, lambdaContext('event-hooks-local', requestId));
      // The answer waits one turn of the event loop: what the request started without waiting for
      // I/O (an accepted event's dispatch, up to its webhook leaving) goes first, instead of
      // queueing behind the writing of the answer. On AWS the two run in different functions.
      await new Promise((resolve) => setImmediate(resolve));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
      const payload = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(payload);
    } catch (error) {
      options.onError?.(error);
      // API Gateway's answer when the integration fails.
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: 'Internal Server Error' }));
      else res.destroy();
    }
  });
}
