/**
 * The console's one way to the Admin API: same origin, JSON, the API key (when the deployment wants
 * one) as a bearer token kept in sessionStorage only, so it goes when the tab closes.
 */

/** Kong's error body: `message`, and for a schema violation `name` and `fields`. */
export interface KongErrorBody {
  message?: string;
  name?: string;
  code?: number;
  fields?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: KongErrorBody,
  ) {
    super(typeof body.message === 'string' ? body.message : `the API answered ${status}`);
  }

  /** A route this deployment does not have (yet): the page says "not available" instead of failing. */
  get unavailable(): boolean {
    return this.status === 404;
  }
}

const KEY_NAME = 'event-hooks.api-key';
const listeners = new Set<() => void>();
let keyWanted = false;
let keyGeneration = 0;

export function apiKey(): string | undefined {
  return sessionStorage.getItem(KEY_NAME) ?? undefined;
}

/** Keeps the key for this tab's session and asks every page to load again with it. */
export function saveApiKey(key: string): void {
  if (key === '') sessionStorage.removeItem(KEY_NAME);
  else sessionStorage.setItem(KEY_NAME, key);
  keyWanted = false;
  keyGeneration += 1;
  notify();
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(KEY_NAME);
  keyGeneration += 1;
  notify();
}

/** Whether the API answered 401 since the key was last saved. */
export function isKeyWanted(): boolean {
  return keyWanted;
}

/** Bumped each time the key changes: pages load again when it does. */
export function currentKeyGeneration(): number {
  return keyGeneration;
}

export function onKeyChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}

function parseError(text: string): KongErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as KongErrorBody) : {};
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/**
 * Whether the answer means "a (valid) key is needed": the service's own `401`, or API Gateway's bare
 * `403 {"message":"Forbidden"}`, which is how its Lambda authorizer refuses a missing or unknown key on
 * AWS. A `403` with another message is a known key that lacks a scope: shown as an error instead.
 */
function asksForKey(error: ApiError): boolean {
  return error.status === 401 || (error.status === 403 && error.body.message === 'Forbidden');
}

/** One request; resolves with the parsed JSON body (undefined for 204), rejects with an ApiError. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const error = response.ok ? undefined : new ApiError(response.status, parseError(text));
  if (error && asksForKey(error)) {
    keyWanted = true;
    notify();
  }
  if (error) throw error;
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** A path segment, encoded. */
export const seg = (value: string): string => encodeURIComponent(value);
