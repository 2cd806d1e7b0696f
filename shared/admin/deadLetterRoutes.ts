import { NotFoundError } from '../errors.ts';
import type { DeadLetters } from '../pipeline/deadLetters.ts';
import type { StoredDeadLetter } from '../store/deadLetterStore.ts';
import { type ApiRequest, type ApiResponse, allow, json, nextLink, noContent } from './http.ts';

/** A dead letter as the Admin API shows it (beyond Kong, in its naming style). */
export function deadLetterView(entry: StoredDeadLetter) {
  const { job } = entry;
  return {
    id: entry.id,
    delivery_id: job.deliveryId,
    hook_id: job.hookId,
    attempts: job.attempt,
    reason: entry.reason,
    dead_lettered_at: Math.floor(entry.deadLetteredAt / 1000),
    event: {
      id: job.event.id,
      time: job.event.time,
      source: job.event.source,
      event: job.event.event,
      data: job.event.data,
    },
  };
}

/**
 * `/dead-letters`: list (`size`/`offset`/`next` like `/event-hooks`), read, replay
 * (`POST /dead-letters/{id}/replay` → 202) and drop (`DELETE` → 204) deliveries that failed for good.
 */
export async function deadLetterRoutes(
  deadLetters: DeadLetters,
  tenant: string,
  method: string,
  rest: string[],
  request: ApiRequest,
  size: () => number,
): Promise<ApiResponse> {
  const [id, action, ...extra] = rest;
  if (extra.length > 0) throw new NotFoundError();
  if (id === undefined) {
    allow(method, ['GET']);
    const offset = request.query.get('offset') ?? undefined;
    const page = await deadLetters.list(tenant, { size: size(), ...(offset !== undefined ? { offset } : {}) });
    return json(200, {
      data: page.deadLetters.map(deadLetterView),
      next: nextLink('/dead-letters', page.next, request.query, size()),
    });
  }
  if (action === 'replay') {
    allow(method, ['POST']);
    const replayed = await deadLetters.replay(tenant, id);
    if (!replayed) throw new NotFoundError();
    return json(202, deadLetterView(replayed));
  }
  if (action !== undefined) throw new NotFoundError();
  allow(method, ['GET', 'DELETE']);
  if (method === 'DELETE') {
    await deadLetters.delete(tenant, id);
    return noContent();
  }
  const entry = await deadLetters.get(tenant, id);
  if (!entry) throw new NotFoundError();
  return json(200, deadLetterView(entry));
}
