import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { DeliveryError } from '../errors.ts';
import { acceptedText, headerNameError, mapKeyError, refineMap } from '../hooks/refinements.ts';
import {
  HTTP_METHODS,
  headersSchema,
  LIMITS,
  map,
  Nullable,
  OneOf,
  PreviousSecretSchema,
  Secret,
  Signing,
  SslVerify,
  Text,
  Url,
} from '../hooks/schemas.ts';
import { renderTemplate, renderValues, templateBudget, templateSyntaxError } from '../hooks/templates.ts';
import { addRefinement } from '../schema/kongErrors.ts';
import { defineHandler } from './definition.ts';
import type { HandlerFactory, WebhookResult } from './types.ts';
import {
  addDeliveryHeaders,
  addSignature,
  answer,
  eventPayload,
  normaliseSigning,
  refineSignedRequest,
  withHeader,
} from './webhook.ts';

const PayloadSchema = map(Text(LIMITS.mapValueLength), { description: 'Form field → value (a template).' });

export const WebhookCustomConfigSchema = Type.Object(
  {
    url: Url,
    method: OneOf(HTTP_METHODS, { description: 'Any case on input; stored upper-case.' }),
    payload: Nullable(PayloadSchema),
    payload_format: Type.Boolean({ default: true }),
    body: Nullable(Text(LIMITS.bodyLength)),
    body_format: Type.Boolean({ default: true }),
    headers: Nullable(headersSchema()),
    headers_format: Type.Boolean({ default: false }),
    secret: Secret,
    ssl_verify: SslVerify,
    signing: Signing,
    previous_secret: Type.Optional(PreviousSecretSchema),
  },
  { additionalProperties: false },
);

/** `method` is one of `HTTP_METHODS` once validated; typed as text so that hooks built in code need no cast. */
export interface CustomRequestConfig extends Omit<Static<typeof WebhookCustomConfigSchema>, 'method'> {
  method: string;
}

declare module '../hooks/hook.ts' {
  interface HandlerConfigs {
    'webhook-custom': CustomRequestConfig;
  }
}

/**
 * `webhook-custom`: a fully configured request (docs/reference.md §2.2). Payload, body and headers are
 * rendered as templates against the event data when their `*_format` flag says so. `GET` sends the
 * payload as the query string; `POST`/`PUT`/`PATCH` send `body` as is or else the payload encoded
 * by the content type (JSON, form, or multipart, the default). As in Kong, other methods send only
 * `body`. No `ping`: Kong offers it for `webhook` alone.
 *
 * All templates of one request share one budget (`TEMPLATE_MAX_BYTES`, docs/templates.md); a
 * template past it, or malformed, rejects with a `TemplateError` before anything is sent, and the
 * delivery is dead-lettered without a retry.
 */
export const webhookCustom: HandlerFactory<'webhook-custom', WebhookResult> = (hook, deps) => ({
  async callback(event, ctx) {
    const { config } = hook;
    const data = eventPayload(event);
    const budget = templateBudget(deps.templateMaxBytes);
    const method = config.method.toUpperCase();
    const rawBody = config.body ?? null;
    const renderedBody =
      rawBody !== null && config.body_format ? renderTemplate(rawBody, data, budget, 'config.body') : rawBody;
    // A payload that is not sent (a body wins) is not rendered, so it spends none of the budget.
    const sendsPayload = method === 'GET' || (renderedBody === null && BODY_METHODS.has(method));
    const payload =
      config.payload && sendsPayload
        ? config.payload_format
          ? renderValues(config.payload, data, budget, 'config.payload')
          : config.payload
        : null;
    const headers = config.headers
      ? config.headers_format
        ? headerSafe(renderValues(config.headers, data, budget, 'config.headers'))
        : { ...config.headers }
      : {};

    let url = config.url;
    let body: Buffer | undefined;
    if (renderedBody !== null) body = Buffer.from(renderedBody, 'utf8');
    if (payload && method === 'GET') url = withQuery(url, payload);
    else if (payload && body === undefined && BODY_METHODS.has(method)) body = encodePayload(payload, headers);

    addDeliveryHeaders(headers, ctx);
    // Kong signs only a request that has a body; Standard Webhooks signs any (an empty body then).
    addSignature(headers, config, body, ctx, deps);
    const res = await deps.http.send({ method, url, headers, sslVerify: config.ssl_verify, ...(body ? { body } : {}) });
    return answer(res, ctx);
  },
});

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** `GET` → `[Gg][Ee][Tt]`: JSON Schema patterns have no case-insensitive flag. */
const anyCase = (words: readonly string[]) =>
  `^(${words.map((word) => [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('')).join('|')})$`;

/** `webhook-custom` (docs/reference.md §2.2): the definition the registry lists. */
export const webhookCustomHandler = /* @__PURE__ */ defineHandler({
  name: 'webhook-custom',
  config: WebhookCustomConfigSchema,
  signed: true,
  sentFields: {
    method: Type.String({ pattern: anyCase(HTTP_METHODS), description: 'An HTTP method, in any case.' }),
  },
  hooksFileConfig: ({ url, secret, signing, stringMap, nullable }) =>
    Type.Object(
      {
        url,
        method: Type.Union(
          [...HTTP_METHODS, ...HTTP_METHODS.map((method) => method.toLowerCase())].map((method) =>
            Type.Literal(method),
          ),
        ),
        payload: Type.Optional(nullable(stringMap)),
        payload_format: Type.Optional(Type.Boolean()),
        body: Type.Optional(nullable(Type.String({ maxLength: LIMITS.bodyLength }))),
        body_format: Type.Optional(Type.Boolean()),
        headers: Type.Optional(nullable(stringMap)),
        headers_format: Type.Optional(Type.Boolean()),
        secret: Type.Optional(secret),
        ssl_verify: Type.Optional(Type.Boolean()),
        signing: Type.Optional(signing),
      },
      { additionalProperties: false },
    ),
  normalise(config) {
    // HTTP methods are case-insensitive on input; the stored form is upper-case so the sender can compare plainly.
    if (typeof config.method === 'string') config.method = config.method.toUpperCase();
    normaliseSigning(config);
  },
  // Templates are checked only where the `*_format` flag that applies is on.
  refine(config, errors, options) {
    refineSignedRequest(config, errors, options, () => {
      refineMap(errors, ['headers'], config.headers, headerNameError, config.headers_format === true);
      refineMap(errors, ['payload'], config.payload, mapKeyError, config.payload_format === true);
      const body = acceptedText(config, errors, 'body');
      if (body !== undefined && config.body_format === true) addRefinement(errors, ['body'], templateSyntaxError(body));
    });
  },
  create: webhookCustom,
});

/**
 * Rendered header values come from event data: line breaks and NUL become spaces (no header
 * injection), and text beyond Latin-1 goes as its UTF-8 bytes, as nginx sends it, instead of making
 * Node refuse the request.
 */
export function headerSafe(headers: Record<string, string>): Record<string, string> {
  // `fromEntries` defines own keys: a header named `__proto__` stays a header, not a prototype.
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Buffer.from(value.replace(/[\r\n\0]/g, ' '), 'utf8').toString('latin1'),
    ]),
  );
}

/** Appends the payload to the URL's query, keeping whatever query the URL already has byte for byte. */
export function withQuery(url: string, payload: Record<string, string>): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new DeliveryError('invalid URL', { retryable: false, cause: error });
  }
  const query = formEncode(payload);
  if (!query) return url;
  parsed.search = parsed.search ? `${parsed.search.slice(1)}&${query}` : query;
  parsed.hash = '';
  return parsed.toString();
}

/** Form encoding as Kong's `ngx.encode_args` writes it: spaces as `%20`, not `+`. */
export function formEncode(payload: Record<string, string>): string {
  return Object.entries(payload)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}

/**
 * Encodes the payload as the request's content type asks (looked up case-insensitively; parameters
 * such as `charset` ignored). Without a content type it is multipart, as in Kong, and the header is
 * set with the generated boundary. A type it cannot encode to is a configuration error, not retried.
 */
export function encodePayload(payload: Record<string, string>, headers: Record<string, string>): Buffer {
  const declared = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const media = (declared ?? 'multipart/form-data').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/json' || media.endsWith('+json')) return Buffer.from(JSON.stringify(payload), 'utf8');
  if (media === 'application/x-www-form-urlencoded') return Buffer.from(formEncode(payload), 'utf8');
  if (media === 'multipart/form-data') {
    const { boundary, body } = multipart(payload);
    withHeader(headers, 'content-type', `multipart/form-data; boundary=${boundary}`);
    return body;
  }
  throw new DeliveryError(`cannot encode the payload as '${media}'`, { retryable: false });
}

/** `multipart/form-data` (RFC 7578) with a random boundary that occurs in no value. */
export function multipart(fields: Record<string, string>): { boundary: string; body: Buffer } {
  const values = Object.entries(fields);
  let boundary: string;
  do boundary = `event-hooks-${randomBytes(16).toString('hex')}`;
  while (values.some(([key, value]) => key.includes(boundary) || value.includes(boundary)));
  const parts = values.map(
    ([name, value]) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${escapeFieldName(name)}"\r\n\r\n${value}\r\n`,
  );
  return { boundary, body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`, 'utf8') };
}

/** Field names are quoted strings: quote and line breaks are percent-encoded, as browsers do. */
function escapeFieldName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
