import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ApiError } from './api.ts';
import type { Loaded } from './hooks.ts';

/** Unix seconds, milliseconds or an ISO date (the delivery log may use any) as a local date and time. */
export function formatTime(value: unknown): string {
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toLocaleString();
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  const ms = value > 1e12 ? value : value * 1000;
  return new Date(ms).toLocaleString();
}

/** Any value as text: strings as they are, everything else as indented JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** Data from the server, shown as text in a scrollable block (never as markup). */
export function DataBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <section class="data" aria-label={label}>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must be reachable by keyboard */}
      <pre tabIndex={0}>{asText(value)}</pre>
    </section>
  );
}

export function Unavailable({ what }: { what: string }) {
  return (
    <p class="note" role="status">
      {what} is not available in this deployment.
    </p>
  );
}

export function ErrorNote({ error }: { error: ApiError | Error }) {
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}

/**
 * What a loaded resource has to say before its data can be shown: loading, "not available" for a
 * route the deployment lacks (404), or the error. `undefined` once the data is there.
 */
export function loadState<T>(loaded: Loaded<T>, what: string, missingMeansUnavailable = true) {
  if (loaded.error) {
    const status = (loaded.error as ApiError).status;
    if (status === 404 && missingMeansUnavailable) return <Unavailable what={what} />;
    if (status === 401) return <p class="note">Enter an API key to see {what.toLowerCase()}.</p>;
    return <ErrorNote error={loaded.error} />;
  }
  if (loaded.data === undefined) return <p class="note">Loading…</p>;
  return undefined;
}

/** The page's heading, focused when the page opens so keyboard and screen-reader users start there. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Badge({ value }: { value: string }) {
  const kind = /^(delivered|queued|ok|true|active)$/.test(value)
    ? 'good'
    : /^(dead|failed|failed_to_queue|false|disabled)$/.test(value)
      ? 'bad'
      : 'neutral';
  return <span class={`badge ${kind}`}>{value}</span>;
}
