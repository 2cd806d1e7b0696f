/**
 * The candidate the sender figure measures against today's `createHttpSender` (node:http): the same
 * `HttpSender` contract on undici (issue 10: "consider undici for timeouts, keep-alive pools and the
 * DNS lookup hook that the SSRF guard needs; measure it before you switch"). Bench only: the
 * service switches only if it is clearly better (BENCHMARKS.md, "Outbound HTTP").
 *
 * The guard is the same: an address literal is judged before connecting, a name by the same
 * `guardedLookup` at connect time (undici hands `lookup` to `net.connect`/`tls.connect`), redirects
 * are not followed (undici's `request` never follows them), the response is capped, and the
 * connect and response budgets are enforced. One difference stays: `request` gives the response
 * headers lower-cased only, so `rawHeaders` (what `/test` shows as the receiver spelled them)
 * would need undici's lower-level `dispatch` handler.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, buildConnector, request } from 'undici';
import { DeliveryError } from '../shared/errors.ts';
import { createDestinationPolicy, urlPort } from '../shared/http/addressPolicy.ts';
import { isReservedHeader } from '../shared/http/headerPolicy.ts';
import {
  AddressRefusedError,
  guardedLookup,
  type HttpRequest,
  type HttpResponse,
  type HttpSender,
  type HttpSenderOptions,
  REFUSED,
} from '../shared/http/httpSender.ts';

export function createUndiciSender(options: HttpSenderOptions = {}): HttpSender {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const responseTimeoutMs = options.responseTimeoutMs ?? 10_000;
  const maxResponseBytes = options.maxResponseBytes ?? 65_536;
  const userAgent = options.userAgent ?? 'event-hooks';
  const destinations =
    options.destinations ??
    createDestinationPolicy({
      blockPrivateNetworks: options.blockPrivateNetworks ?? false,
      ownEndpoints: options.ownEndpoints ?? [],
    });

  /** One connector per verification mode and port: the guard's lookup needs the port it judges. */
  const connectors = new Map<string, ReturnType<typeof buildConnector>>();
  const connectorFor = (rejectUnauthorized: boolean, port: number) => {
    const key = `${rejectUnauthorized}:${port}`;
    let connector = connectors.get(key);
    if (!connector) {
      connector = buildConnector({
        timeout: connectTimeoutMs,
        rejectUnauthorized,
        lookup: guardedLookup(destinations, port),
      });
      connectors.set(key, connector);
    }
    return connector;
  };
  const agentFor = (rejectUnauthorized: boolean) =>
    new Agent({
      connect: (connectOptions, callback) => {
        const port = Number(connectOptions.port) || (connectOptions.protocol === 'https:' ? 443 : 80);
        connectorFor(rejectUnauthorized, port)(connectOptions, callback);
      },
      headersTimeout: responseTimeoutMs,
      bodyTimeout: responseTimeoutMs,
      connections: null,
    });
  const agents = { verified: agentFor(true), unverified: agentFor(false) };

  const send = async (req: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    const refuse = (message: string, cause?: unknown) => new DeliveryError(message, { retryable: false, cause });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (error) {
      throw refuse('invalid URL', error);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(`unsupported protocol '${url.protocol}'`);
    const target = `${req.method} ${url.origin}`;
    const port = urlPort(url);
    const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(literal) !== 0) {
      const refusal = await destinations.addressRefusal(literal, literal, port);
      if (refusal) throw refuse(`${target}: ${REFUSED}: ${refusal.message}`);
    }
    const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (!isReservedHeader(name)) headers[name] = value;
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent')) headers['user-agent'] = userAgent;
    // The whole exchange within both budgets, as today's sender bounds connect and response apart.
    const signal = AbortSignal.timeout(connectTimeoutMs + responseTimeoutMs);
    try {
      const res = await request(url, {
        method: req.method as 'POST',
        headers,
        ...(body ? { body } : {}),
        dispatcher: url.protocol === 'https:' && !req.sslVerify ? agents.unverified : agents.verified,
        signal,
      });
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = maxResponseBytes - kept;
        if (chunk.length > room) truncated = true;
        if (room <= 0) continue;
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(piece);
        kept += piece.length;
      }
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return {
        status: res.statusCode,
        headers: flat,
        rawHeaders: flat,
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
        latencyMs: performance.now() - started,
      };
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      const refused = error instanceof AddressRefusedError || (error as Error).cause instanceof AddressRefusedError;
      const message = refused ? `${REFUSED}: ${(error as Error).message}` : (error as Error).message;
      throw new DeliveryError(`${target}: ${message}`, { retryable: !refused, cause: error });
    }
  };

  return {
    send,
    destinations,
    close() {
      void agents.verified.destroy();
      void agents.unverified.destroy();
    },
  };
}
