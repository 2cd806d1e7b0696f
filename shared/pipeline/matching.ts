import { CRUD_OPERATIONS, type CrudOperation } from '../hooks/catalog.ts';
import type { EventHook } from '../hooks/hook.ts';
import { getOwn } from '../records.ts';

/** One `(source, event)` name under which an incoming event can be matched. */
export interface EventForm {
  source: string;
  event: string;
}

const isOperation = (value: unknown): value is CrudOperation =>
  typeof value === 'string' && (CRUD_OPERATIONS as readonly string[]).includes(value);

/**
 * The names an event is known by. An entity change is sent once, as `crud` with event `<entity>`
 * or `<entity>:<operation>`, and Kong would emit it as all three of `crud/<entity>`,
 * `crud/<entity>:<operation>` and `dao:crud/<operation>` (docs/reference.md §4). Other events have one form.
 */
export function eventForms(source: string, event: string, data: Record<string, unknown>): EventForm[] {
  if (source !== 'crud') return [{ source, event }];
  const colon = event.lastIndexOf(':');
  const suffix = colon > 0 ? event.slice(colon + 1) : undefined;
  const entity = isOperation(suffix) ? event.slice(0, colon) : event;
  const given = getOwn(data, 'operation');
  const operation = isOperation(suffix) ? suffix : isOperation(given) ? given : undefined;
  if (!operation) return [{ source, event: entity }];
  return [
    { source: 'crud', event: entity },
    { source: 'crud', event: `${entity}:${operation}` },
    { source: 'dao:crud', event: operation },
  ];
}

/** The sources an event's forms span, each looked up once. */
export function formSources(forms: EventForm[]): string[] {
  return [...new Set(forms.map((form) => form.source))];
}

/**
 * The form under which a hook fires, or `undefined` if it does not match: same source, and the
 * hook's event is `null` (every event) or equal. A hook matches at most once per event.
 */
export function matchHook(hook: Pick<EventHook, 'source' | 'event'>, forms: EventForm[]): EventForm | undefined {
  return forms.find((form) => form.source === hook.source && (hook.event === null || hook.event === form.event));
}
