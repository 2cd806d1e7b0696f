import type { HandlerName, HookOf } from '../hooks/hook.ts';
import type { HttpSender } from '../http/httpSender.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { FunctionRunner } from '../ports/functionRunner.ts';

/** What a handler may use; handlers reach the outside world only through these. */
export interface HandlerDeps {
  http: HttpSender;
  functions: FunctionRunner;
  logger: Logger;
  tenant: string;
  /** Cap on what one delivery's templates render (`TEMPLATE_MAX_BYTES`); the renderer's default when absent. */
  templateMaxBytes?: number;
  /** Time of an attempt (`webhook-timestamp`, the end of a rotation overlap); the system clock when absent. */
  clock?: Clock;
}

/** One event as a handler sees it. `data` is never mutated. */
export interface HandlerEvent {
  source: string;
  /** `null` only when `/test` runs a hook that subscribes to every event of its source (Kong passes nil). */
  event: string | null;
  data: Record<string, unknown>;
}

/** Present when the delivery worker runs the handler (absent for `/test`). */
export interface DeliveryContext {
  /** Stable across retries: receivers de-duplicate on it (`x-event-hooks-delivery`). */
  deliveryId?: string;
  /** 1 for the first try (`x-event-hooks-attempt`). */
  attempt?: number;
  eventId?: string;
  /** A delivery: an answer that is a failure rejects with a `DeliveryError` (`/test` shows any answer instead). */
  strict?: boolean;
}

/** The receiver's answer, whatever its status: shown by `/test` and judged by the delivery worker. */
export interface WebhookResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The log handler's result: the line is the effect, so the result only confirms it was written. */
export interface LogResult {
  logged: true;
}

/**
 * A hook made runnable. `callback` resolves with the handler's result (`R`: the receiver's answer for
 * `webhook` and `webhook-custom`, never a rejection for 4xx/5xx; `{ logged: true }` for `log`; the last
 * function's return value for `lambda`). `ping` exists only for handlers that support it (Kong: webhook only).
 */
export interface HookHandler<R = unknown> {
  callback(event: HandlerEvent, ctx?: DeliveryContext): Promise<R>;
  ping?(operation?: 'create' | 'update'): Promise<unknown>;
}

/** Builds a registered handler's hook into a runnable one. */
export type HandlerFactory<H extends HandlerName, R = unknown> = (hook: HookOf<H>, deps: HandlerDeps) => HookHandler<R>;
