import { useState } from 'preact/hooks';
import type { EventHook } from '../../../shared/hooks/hook.ts';
import { HANDLER_NAMES } from '../../../shared/hooks/hook.ts';
import { seg } from '../api.ts';
import { Badge, formatTime, loadState, PageTitle } from '../components.tsx';
import { useApi } from '../hooks.ts';

/** A hook as the API answers it, with `enabled` from the delivery log's change (absent before it). */
export type HookView = EventHook & { enabled?: boolean };

export interface DeliverySummary {
  id: string;
  event_id?: string;
  hook_id?: string;
  status: string;
  attempts?: number;
  last_status_code?: number | null;
  last_error?: string | null;
  created_at?: number;
  updated_at?: number;
}

/** Per-row lookups are one request each: the first rows only, the rest say so. */
const DETAILED_ROWS = 50;

/** The figure of a hook's health most worth a glance, whatever the exact shape the API gives. */
export function healthSummary(health: Record<string, unknown>): string {
  const disabled = health.disabled_since ?? health.disabledSince;
  if (typeof disabled === 'number') return `disabled since ${formatTime(disabled)}`;
  const hour = (health.last_hour ?? health.hour) as Record<string, unknown> | undefined;
  const rate = hour && typeof hour === 'object' ? hour.success_rate : health.success_rate;
  if (typeof rate === 'number') return `${Math.round(rate <= 1 ? rate * 100 : rate)}% ok (1 h)`;
  const failures = health.consecutive_failures;
  if (typeof failures === 'number') return `${failures} failures in a row`;
  return 'no deliveries yet';
}

function HealthCell({ id }: { id: string }) {
  const health = useApi<Record<string, unknown>>(`/event-hooks/${seg(id)}/health`);
  if (health.error) return <span class="muted">n/a</span>;
  if (!health.data) return <span class="muted">…</span>;
  return <span>{healthSummary(health.data)}</span>;
}

function LastDeliveryCell({ id }: { id: string }) {
  const page = useApi<{ data: DeliverySummary[] }>(`/event-hooks/${seg(id)}/deliveries?size=1`);
  if (page.error) return <span class="muted">n/a</span>;
  if (!page.data) return <span class="muted">…</span>;
  const last = page.data.data[0];
  if (!last) return <span class="muted">none</span>;
  return (
    <span>
      <Badge value={last.status} /> {formatTime(last.created_at)}
    </span>
  );
}

/** The filters go into the page's URL (without a reload), so a filtered list can be bookmarked or shared. */
function keepInUrl(source: string, handler: string) {
  const query = new URLSearchParams({ ...(source ? { source } : {}), ...(handler ? { handler } : {}) }).toString();
  history.replaceState(null, '', `#/hooks${query ? `?${query}` : ''}`);
}

export function HooksPage({ query }: { query: URLSearchParams }) {
  const hooks = useApi<{ data: HookView[] }>('/event-hooks?size=1000');
  const [source, setSourceState] = useState(query.get('source') ?? '');
  const [handler, setHandlerState] = useState(query.get('handler') ?? '');
  const setSource = (value: string) => {
    setSourceState(value);
    keepInUrl(value, handler);
  };
  const setHandler = (value: string) => {
    setHandlerState(value);
    keepInUrl(source, value);
  };
  const waiting = loadState(hooks, 'The hook list', false);
  const all = hooks.data?.data ?? [];
  const sources = [...new Set([...all.map((hook) => hook.source), ...(source ? [source] : [])])].sort();
  const shown = all.filter((hook) => (!source || hook.source === source) && (!handler || hook.handler === handler));
  return (
    <>
      <PageTitle>Event hooks</PageTitle>
      <p>
        <a class="button" href="#/hooks/new">
          New hook
        </a>
      </p>
      <form class="filters" aria-label="Filter hooks" onSubmit={(event) => event.preventDefault()}>
        <label for="filter-source">Source</label>
        <select id="filter-source" value={source} onChange={(event) => setSource(event.currentTarget.value)}>
          <option value="">All sources</option>
          {sources.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <label for="filter-handler">Handler</label>
        <select id="filter-handler" value={handler} onChange={(event) => setHandler(event.currentTarget.value)}>
          <option value="">All handlers</option>
          {HANDLER_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </form>
      {waiting ?? (
        <table>
          <caption>
            {shown.length} of {all.length} hooks
          </caption>
          <thead>
            <tr>
              <th scope="col">Hook</th>
              <th scope="col">Source</th>
              <th scope="col">Event</th>
              <th scope="col">Handler</th>
              <th scope="col">Enabled</th>
              <th scope="col">Health</th>
              <th scope="col">Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((hook, index) => (
              <tr key={hook.id}>
                <td>
                  <a href={`#/hooks/${seg(hook.id)}`}>{hook.id.slice(0, 8)}</a>
                </td>
                <td>{hook.source}</td>
                <td>{hook.event ?? 'every event'}</td>
                <td>{hook.handler}</td>
                <td>{hook.enabled === undefined ? 'yes' : hook.enabled ? 'yes' : 'no'}</td>
                <td>
                  {index < DETAILED_ROWS ? <HealthCell id={hook.id} /> : <span class="muted">open the hook</span>}
                </td>
                <td>
                  {index < DETAILED_ROWS ? <LastDeliveryCell id={hook.id} /> : <span class="muted">open the hook</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
