import type { HandlerName } from '../../../shared/hooks/hook.ts';
import { parseJsonField } from '../form.tsx';
import type { HookView } from './hooks.tsx';

/** What each handler's fields get from the form. */
export interface HandlerFieldProps {
  draft: Draft;
  set: (patch: Partial<Draft>) => void;
  errors: Record<string, string>;
  hookId: string | undefined;
}

/** Everything the form edits, as the controls hold it (JSON objects as text). */
export interface Draft {
  handler: HandlerName;
  source: string;
  event: string;
  on_change: boolean;
  snooze: string;
  enabled: boolean;
  filter: string;
  url: string;
  secret: string;
  ssl_verify: boolean;
  signing: string;
  headers: string;
  headers_format: boolean;
  method: string;
  payload: string;
  payload_format: boolean;
  body: string;
  body_format: boolean;
  functions: string[];
}

export const EMPTY: Draft = {
  handler: 'webhook',
  source: 'crud',
  event: '',
  on_change: false,
  snooze: '',
  enabled: true,
  filter: '',
  url: '',
  secret: '',
  ssl_verify: false,
  signing: '',
  headers: '',
  headers_format: false,
  method: 'POST',
  payload: '',
  payload_format: false,
  body: '',
  body_format: true,
  functions: ['return function (data) {\n  return data\n}'],
};

const json = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value, null, 2));

export function draftOf(hook: HookView): Draft {
  const config = hook.config as unknown as Record<string, unknown>;
  const str = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    ...EMPTY,
    handler: hook.handler,
    source: hook.source,
    event: hook.event ?? '',
    on_change: hook.on_change === true,
    snooze: hook.snooze === null ? '' : String(hook.snooze),
    enabled: hook.enabled !== false,
    filter: json(hook.filter),
    url: str(config.url),
    secret: str(config.secret),
    ssl_verify: config.ssl_verify === true,
    signing: str(config.signing),
    headers: json(config.headers),
    headers_format: config.headers_format === true,
    method: str(config.method) || 'POST',
    payload: json(config.payload),
    payload_format: config.payload_format === true,
    body: str(config.body),
    body_format: config.body_format !== false,
    functions: Array.isArray(config.functions) ? (config.functions as string[]) : EMPTY.functions,
  };
}

/** The handler's config from the draft; JSON fields that do not parse become errors under their name. */
function configOf(draft: Draft, errors: Record<string, string>): Record<string, unknown> {
  const parsed = (name: keyof Draft) => {
    const result = parseJsonField(draft[name] as string);
    if ('error' in result) {
      errors[`config.${name}`] = result.error;
      return null;
    }
    return result.value;
  };
  const secret = draft.secret === '' ? null : draft.secret;
  const signing = draft.signing ? { signing: draft.signing } : {};
  switch (draft.handler) {
    case 'webhook':
      return { url: draft.url, secret, ssl_verify: draft.ssl_verify, headers: parsed('headers') ?? {}, ...signing };
    case 'webhook-custom':
      return {
        url: draft.url,
        method: draft.method,
        secret,
        ssl_verify: draft.ssl_verify,
        headers: parsed('headers'),
        headers_format: draft.headers_format,
        payload: parsed('payload'),
        payload_format: draft.payload_format,
        body: draft.body === '' ? null : draft.body,
        body_format: draft.body_format,
        ...signing,
      };
    case 'lambda':
      return { functions: draft.functions };
    default:
      return {};
  }
}

/**
 * The body to send: the fields the form edits over the hook as it was, so fields the form does not
 * show (a threshold, say) survive an edit. `enabled` is sent only when it says something, so a
 * deployment without it still accepts the hook.
 */
export function bodyOf(draft: Draft, original: HookView | undefined, errors: Record<string, string>) {
  const filter = parseJsonField(draft.filter);
  if ('error' in filter) errors.filter = filter.error;
  const snooze = draft.snooze.trim() === '' ? null : Number(draft.snooze);
  const base: Record<string, unknown> = { ...(original ?? {}) };
  for (const key of ['id', 'created_at', 'updated_at', 'deployment']) delete base[key];
  return {
    ...base,
    handler: draft.handler,
    source: draft.source,
    event: draft.event === '' ? null : draft.event,
    on_change: draft.on_change,
    snooze: Number.isNaN(snooze) ? draft.snooze : snooze,
    filter: 'value' in filter ? filter.value : null,
    config: configOf(draft, errors),
    ...(draft.enabled === false || original?.enabled !== undefined ? { enabled: draft.enabled } : {}),
  };
}
