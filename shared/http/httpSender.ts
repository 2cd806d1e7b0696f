import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { DeliveryError } from '../errors.ts';
import { emptyRecord, getOwn, setOwn } from '../records.ts';
import { createDestinationPolicy, type DestinationPolicy, urlPort } from './addressPolicy.ts';
import { isReservedHeader } from './headerPolicy.ts';

/**
 * The one way out of the service: every outbound HTTP request (webhook deliveries, pings, tests)
 * goes through an `HttpSender`, so timeouts, keep-alive, response caps and the address policy are
 * decided in one place. It reports what the receiver answered and leaves judging the status code
 * to {@link classifyResponse}.
 */

export interface HttpSenderOptions {
  /** DNS + TCP (+ TLS) connection budget. Default 10 s. */
  connectTimeoutMs?: number;
  /** From connected until the whole response is read. Default 10 s. */
  responseTimeoutMs?: number;
  /** Response bytes kept; the rest is read and discarded and `truncated` is set. Default 64 KiB. */
  maxResponseBytes?: number;
  /** Refuse loopback, private and link-local destinations after DNS resolution (the cloud's SSRF policy). */
  blockPrivateNetworks?: boolean;
  /** The service's own listeners (store endpoint, API), refused in every mode. */
  ownEndpoints?: readonly (string | undefined)[];
  /** A policy built elsewhere (to add listeners later); overrides the two options above. */
  destinations?: DestinationPolicy;
  /** `user-agent` sent when the request does not carry one. */
  userAgent?: string;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Verify the server certificate of https URLs (a hook's `ssl_verify`). */
  sslVerify: boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The same headers with the names as the receiver spelled them (what `/test` shows, as Kong does). */
  rawHeaders: Record<string, string>;
  /** The body as UTF-8, at most `maxResponseBytes` of it. */
  body: string;
  truncated: boolean;
  latencyMs: number;
}

export interface HttpSender {
  /** Resolves with whatever status the receiver answered; rejects with a `DeliveryError` when there is no answer. */
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Destroys pooled connections. */
  close(): void;
  /** What this sender refuses to reach; create and update check hook URLs against the same policy. */
  readonly destinations: DestinationPolicy;
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 10_000,
  maxResponseBytes: 65_536,
  userAgent: 'event-hooks',
};

/** Raised inside the DNS lookup so the request's error handler can tell a policy refusal from a network failure. */
export class AddressRefusedError extends Error {}

export const REFUSED = 'destination address is not allowed';

/**
 * Creates a sender with keep-alive connection pools (http, https verified, https unverified).
 *
 * @example
 * const sender = createHttpSender({ blockPrivateNetworks: true });
 * const res = await sender.send({ method: 'POST', url, headers: {}, body: '{}', sslVerify: true });
 * const failure = classifyResponse(res); // undefined on 2xx/3xx
 */
export function createHttpSender(options: HttpSenderOptions = {}): HttpSender {
  const { blockPrivateNetworks, ownEndpoints, destinations: given, ...timing } = options;
  const settings = { ...DEFAULTS, ...definedOnly(timing) };
  const destinations =
    given ??
    createDestinationPolicy({ blockPrivateNetworks: blockPrivateNetworks ?? false, ownEndpoints: ownEndpoints ?? [] });
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    httpsVerified: new https.Agent({ keepAlive: true, rejectUnauthorized: true }),
    httpsUnverified: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
  };

  const send = (request: HttpRequest): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const refuse = (message: string, cause?: unknown) =>
        reject(new DeliveryError(message, { retryable: false, cause }));

      let url: URL;
      try {
        url = new URL(request.url);
      } catch (error) {
        refuse('invalid URL', error);
        return;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        refuse(`unsupported protocol '${url.protocol}'`);
        return;
      }
      // URLs may carry credentials in their path (Slack hooks do): messages name the origin only.
      const target = `${request.method} ${url.origin}`;
      const port = urlPort(url);
      const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
      // Node connects to an address literal without a lookup: it is judged here; names in the lookup.
      if (isIP(literal) === 0) {
        connect();
        return;
      }
      destinations.addressRefusal(literal, literal, port).then(
        (refusal) => (refusal ? refuse(`${target}: ${REFUSED}: ${refusal.message}`) : connect()),
        (error) => refuse(`${target}: ${REFUSED}`, error),
      );

      function connect() {
        const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
        const isHttps = url.protocol === 'https:';
        const agent = !isHttps ? agents.http : request.sslVerify ? agents.httpsVerified : agents.httpsUnverified;

        let outgoing: ClientRequest;
        try {
          outgoing = (isHttps ? https : http).request(url, {
            method: request.method,
            headers: outgoingHeaders(request.headers, body, settings.userAgent),
            agent,
            lookup: guardedLookup(destinations, port),
          });
        } catch (error) {
          // Node validates method and header syntax synchronously: a configuration problem, not a network one.
          refuse(`${target}: invalid request (${(error as Error).message})`, error);
          return;
        }

        let settled = false;
        let answered: (() => HttpResponse) | undefined;
        let truncated = false;
        let timer = setTimeout(() => fail('connect timeout', true), settings.connectTimeoutMs);

        const finish = (response: HttpResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(response);
        };
        function fail(reason: string, retryable: boolean, cause?: unknown) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          outgoing.destroy();
          reject(new DeliveryError(`${target}: ${reason}`, { retryable, cause }));
        }
        const startResponseTimer = () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            if (answered && truncated) {
              // The receiver answered; only the discarded tail is slow. Keep the answer, drop the connection.
              finish(answered());
              outgoing.destroy();
            } else {
              fail('response timeout', true);
            }
          }, settings.responseTimeoutMs);
        };

        outgoing.on('socket', (socket: Socket) => {
          if (!socket.connecting) startResponseTimer();
          else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', startResponseTimer);
        });
        outgoing.on('error', (error) => {
          const refused = error instanceof AddressRefusedError;
          fail(refused ? `${REFUSED}: ${error.message}` : error.message, !refused, error);
        });
        outgoing.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          const snapshot = (): HttpResponse => ({
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            rawHeaders: pairHeaders(res.rawHeaders),
            body: Buffer.concat(chunks).toString('utf8'),
            truncated,
            latencyMs: performance.now() - started,
          });
          answered = snapshot;
          res.on('data', (chunk: Buffer) => {
            const room = settings.maxResponseBytes - kept;
            if (chunk.length > room) truncated = true;
            if (room <= 0) return;
            const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
            chunks.push(piece);
            kept += piece.length;
          });
          res.on('end', () => finish(snapshot()));
          res.on('error', (error) => fail(`response interrupted (${error.message})`, true, error));
          res.on('close', () => {
            if (!res.complete) fail('response interrupted', true);
          });
        });

        outgoing.end(body);
      }
    });

  return {
    send,
    destinations,
    close() {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}

/**
 * DNS lookup that drops forbidden addresses (the service's own listeners at `port`; private ones when
 * blocking is on), so a name pointing at 127.0.0.1 or the metadata endpoint fails instead of
 * connecting. Handles both the single-address and the `all` form that Node's happy-eyeballs connect asks for.
 */
export function guardedLookup(destinations: DestinationPolicy, port: number): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      Promise.all(addresses.map((entry) => destinations.addressRefusal(hostname, entry.address, port))).then(
        (refusals) => {
          const allowed = addresses.filter((_entry, i) => refusals[i] === undefined);
          const first = allowed[0];
          const reason = refusals.find((refusal) => refusal !== undefined)?.message ?? 'no address';
          if (!first) callback(new AddressRefusedError(`${hostname} ${reason}`), '', 0);
          else if (options.all) callback(null, allowed);
          else callback(null, first.address, first.family);
        },
        (failure: Error) => callback(new AddressRefusedError(failure.message), '', 0),
      );
    });
  };
}

function outgoingHeaders(
  headers: Record<string, string>,
  body: Buffer | undefined,
  userAgent: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Framing and the connection are ours to state: a configured Content-Length or Transfer-Encoding
    // would corrupt the framing, a Host would name another site. Refused at create; dropped here for
    // hooks stored before that and for every other caller.
    if (!isReservedHeader(name)) out[name] = value;
  }
  if (!Object.keys(out).some((name) => name.toLowerCase() === 'user-agent')) out['user-agent'] = userAgent;
  if (body) out['content-length'] = String(body.length);
  return out;
}

/** A receiver names the headers: `constructor` or `__proto__` stay plain header names. */
function pairHeaders(raw: string[]): Record<string, string> {
  const out = emptyRecord<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const earlier = getOwn(out, name);
    setOwn(out, name, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  return out;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out = emptyRecord<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) setOwn(out, name, Array.isArray(value) ? value.join(', ') : value);
  }
  return out;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Judges a receiver's answer for the delivery worker: `undefined` means delivered.
 * 3xx is a final failure (redirects are not followed); 408, 429 and 5xx are worth retrying (429/503 with the receiver's `Retry-After`); any other 4xx is final.
 *
 * @example
 * classifyResponse({ status: 503, headers: { 'retry-after': '30' } })?.retryAfterMs // 30000
 */
export function classifyResponse(
  res: Pick<HttpResponse, 'status' | 'headers'>,
  nowMs: number = Date.now(),
): DeliveryError | undefined {
  const { status } = res;
  if (status >= 200 && status < 300) return undefined;
  const message = `receiver answered HTTP ${status}`;
  // Redirects are not followed (the target could be anywhere); the delivery did not arrive, and a
  // dead letter lets it be replayed once the hook's URL is corrected.
  if (status >= 300 && status < 400) {
    const location = headerValue(res.headers, 'location');
    let where = '';
    try {
      where = location ? ` to ${new URL(location, 'http://unknown').origin}` : '';
    } catch {
      where = '';
    }
    return new DeliveryError(`${message} (redirect${where} not followed)`, { retryable: false, statusCode: status });
  }
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(headerValue(res.headers, 'retry-after'), nowMs);
    return new DeliveryError(message, { retryable: true, statusCode: status, retryAfterMs });
  }
  const retryable = status === 408 || status >= 500 || status < 200;
  return new DeliveryError(message, { retryable, statusCode: status });
}

/**
 * Milliseconds to wait according to a `Retry-After` value: delta-seconds or an HTTP-date
 * (a date in the past means 0). `undefined` when absent or unreadable.
 *
 * @example
 * parseRetryAfter('120', Date.now()) // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')) // 60000
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the HTTP-date shapes (they all name a weekday or month); bare numbers with signs or decimals are invalid.
  if (!/[a-z]/i.test(text)) return undefined;
  // asctime dates carry no zone but are GMT by definition; Date.parse would read them as local time.
  const at = Date.parse(/GMT|UTC|[+-]\d{4}$/.test(text) ? text : `${text} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
