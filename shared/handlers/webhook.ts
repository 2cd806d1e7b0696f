import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
// The builders one by one, not TypeBox's `Type` object: that object keeps every builder in the bundles (~40 KB).
import * as Type from '@sinclair/typebox';
import { generateWhsec, type SigningConfig, signatureHeaders, whsecError } from '../delivery/signing.ts';
import type { FieldErrors } from '../errors.ts';
import {
  acceptedText,
  type ConfigOptions,
  destinationError,
  headerNameError,
  refineMap,
} from '../hooks/refinements.ts';
import { headersSchema, PreviousSecretSchema, Secret, Signing, SslVerify, Url } from '../hooks/schemas.ts';
import { classifyResponse, type HttpResponse } from '../http/httpSender.ts';
import { systemClock } from '../ports/clock.ts';
import { addRefinement } from '../schema/kongErrors.ts';
import { defineHandler } from './definition.ts';
import type { DeliveryContext, HandlerDeps, HandlerEvent, HandlerFactory, WebhookResult } from './types.ts';

export const WebhookConfigSchema = Type.Object(
  {
    url: Url,
    headers: headersSchema({ default: {} }),
    secret: Secret,
    ssl_verify: SslVerify,
    signing: Signing,
    previous_secret: Type.Optional(PreviousSecretSchema),
  },
  { additionalProperties: false },
);

declare module '../hooks/hook.ts' {
  interface HandlerConfigs {
    webhook: Static<typeof WebhookConfigSchema>;
  }
}

/**
 * `webhook`: POSTs the event data (with `event` and `source` added) as JSON to `config.url`, signed
 * with `config.secret` when set, by the hook's signing scheme (docs/signatures.md). Resolves with the
 * receiver's answer whatever its status; the delivery worker decides what a status means.
 */
export const webhook: HandlerFactory<'webhook', WebhookResult> = (hook, deps) => {
  const { config } = hook;

  const post = async (payload: Record<string, unknown>, ctx?: DeliveryContext): Promise<WebhookResult> => {
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const headers = withHeader({ ...config.headers }, 'content-type', 'application/json');
    addDeliveryHeaders(headers, ctx);
    addSignature(headers, config, body, ctx, deps);
    const res = await deps.http.send({ method: 'POST', url: config.url, headers, body, sslVerify: config.ssl_verify });
    return answer(res, ctx);
  };

  return {
    callback: (event, ctx) => post(eventPayload(event), ctx),
    // Resolves with the body that was sent, which is what Kong's `/ping` answers, whatever the
    // receiver's status; only a transport failure rejects. The entity goes as it is, as in Kong: the
    // receiver is the hook's own.
    ping: async (operation) => {
      const payload = {
        source: 'kong:event_hooks',
        event: 'ping',
        event_hooks: hook,
        ...(operation ? { operation } : {}),
      };
      await post(payload);
      return payload;
    },
  };
};

/** `webhook` (docs/reference.md §2.1): the definition the registry lists. */
export const webhookHandler = /* @__PURE__ */ defineHandler({
  name: 'webhook',
  config: WebhookConfigSchema,
  signed: true,
  hooksFileConfig: ({ url, secret, signing, stringMap }) =>
    Type.Object(
      {
        url,
        headers: Type.Optional(stringMap),
        secret: Type.Optional(secret),
        ssl_verify: Type.Optional(Type.Boolean()),
        signing: Type.Optional(signing),
      },
      { additionalProperties: false },
    ),
  normalise: normaliseSigning,
  refine(config, errors, options) {
    refineSignedRequest(config, errors, options, () =>
      refineMap(errors, ['headers'], config.headers, headerNameError, false),
    );
  },
  create: webhook,
});

/** `standard-webhooks` signs with a `whsec_…` secret, generated when none is given (and returned in the hook). */
export function normaliseSigning(config: Record<string, unknown>): void {
  if (config.signing === 'standard-webhooks' && config.secret === null) config.secret = generateWhsec();
}

/**
 * The refinements of a request `webhook` and `webhook-custom` both send: the URL's rules and
 * destination policy, then the handler's own maps (`refineMaps`), then a `whsec_` secret for
 * `standard-webhooks`, in the order their messages have always come in.
 */
export function refineSignedRequest(
  config: Record<string, unknown>,
  errors: FieldErrors,
  options: ConfigOptions,
  refineMaps: () => void,
): void {
  const url = acceptedText(config, errors, 'url');
  if (url !== undefined) addRefinement(errors, ['url'], destinationError(url, options));
  refineMaps();
  const secret = acceptedText(config, errors, 'secret');
  if (secret !== undefined && config.signing === 'standard-webhooks')
    addRefinement(errors, ['secret'], whsecError(secret));
}

/**
 * The receiver's answer. In a delivery (`ctx.strict`), an answer that is a failure (429, 5xx, other
 * 4xx) rejects with the `DeliveryError` that tells the worker whether to retry.
 */
export function answer(res: HttpResponse, ctx: DeliveryContext | undefined): WebhookResult {
  if (ctx?.strict) {
    const failure = classifyResponse(res);
    if (failure) {
      failure.response = { headers: res.rawHeaders, body: res.body };
      throw failure;
    }
  }
  return { status: res.status, headers: res.rawHeaders, body: res.body };
}

/** The data a webhook sends or renders against: the event's data with `event` and `source` set, as Kong does. */
export function eventPayload(event: HandlerEvent): Record<string, unknown> {
  return { ...event.data, ...(event.event !== null ? { event: event.event } : {}), source: event.source };
}

/** Sets `name` in `headers`, replacing any differently-cased copy so the request never carries two. */
export function withHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) delete headers[key];
  headers[name] = value;
  return headers;
}

/**
 * Signs one attempt by the hook's scheme. Outside a delivery (`/ping`, `/test`) the Standard Webhooks
 * id is a fresh one: there is no delivery to name.
 */
export function addSignature(
  headers: Record<string, string>,
  config: SigningConfig,
  body: Buffer | undefined,
  ctx: DeliveryContext | undefined,
  deps: HandlerDeps,
): void {
  const id = ctx?.deliveryId ?? `msg_${randomUUID()}`;
  const signed = signatureHeaders(config, body, id, (deps.clock ?? systemClock).now());
  for (const [name, value] of Object.entries(signed)) withHeader(headers, name, value);
}

/** Ids that let receivers de-duplicate at-least-once deliveries (beyond Kong). */
export function addDeliveryHeaders(headers: Record<string, string>, ctx: DeliveryContext | undefined): void {
  if (ctx?.deliveryId === undefined) return;
  withHeader(headers, 'x-event-hooks-delivery', ctx.deliveryId);
  if (ctx.attempt !== undefined) withHeader(headers, 'x-event-hooks-attempt', String(ctx.attempt));
}
