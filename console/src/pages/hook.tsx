import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api.ts';
import { Badge, DataBlock, ErrorNote, formatTime, loadState, PageTitle } from '../components.tsx';
import { useApi } from '../hooks.ts';
import { Plot, type PlotSeries } from '../plot.tsx';
import { type DeliverySummary, type HookView, healthSummary } from './hooks.tsx';

export interface Attempt {
  attempt: number;
  started_at?: number;
  latency_ms?: number;
  status_code?: number | null;
  error?: string | null;
  response_headers?: Record<string, unknown> | null;
  response_body?: string | null;
}

const STATUS_COLOURS: Record<string, string> = {
  delivered: '#1a7f37',
  retrying: '#9a6700',
  pending: '#0550ae',
  dead: '#cf222e',
};
const BUCKETS = 24;
/** Details (with attempt latencies) are one request each: the newest deliveries only. */
const LATENCY_SAMPLE = 30;

const seconds = (value: number | undefined) => (value === undefined ? 0 : value > 1e12 ? value / 1000 : value);

/** Deliveries counted per time bucket and status, for the outcome plot. */
function outcomeSeries(deliveries: DeliverySummary[]): { x: number[]; series: PlotSeries[] } {
  const times = deliveries.map((d) => seconds(d.created_at));
  const from = Math.min(...times);
  const to = Math.max(...times);
  const width = Math.max(1, (to - from) / BUCKETS);
  const x = Array.from({ length: BUCKETS + 1 }, (_, i) => Math.round(from + i * width));
  const series = Object.entries(STATUS_COLOURS).map(([status, stroke]) => {
    const values = x.map(() => 0);
    for (const delivery of deliveries) {
      if (delivery.status !== status) continue;
      const index = Math.min(BUCKETS, Math.floor((seconds(delivery.created_at) - from) / width));
      values[index] = (values[index] ?? 0) + 1;
    }
    return { label: status, values, stroke };
  });
  return { x, series };
}

function LatencyPlot({ deliveries }: { deliveries: DeliverySummary[] }) {
  const [points, setPoints] = useState<{ x: number[]; y: number[] } | undefined>();
  useEffect(() => {
    const newest = deliveries.slice(0, LATENCY_SAMPLE);
    Promise.all(
      newest.map((d) => api<{ attempts: Attempt[] }>('GET', `/deliveries/${seg(d.id)}`).catch(() => undefined)),
    ).then((details) => {
      const samples = details
        .flatMap((detail) => detail?.attempts ?? [])
        .filter((a) => typeof a.latency_ms === 'number' && typeof a.started_at === 'number')
        .map((a) => [seconds(a.started_at), a.latency_ms as number] as const)
        .sort((a, b) => a[0] - b[0]);
      setPoints({ x: samples.map((s) => s[0]), y: samples.map((s) => s[1]) });
    });
  }, [deliveries]);
  if (!points) return <p class="note">Loading latencies…</p>;
  if (points.x.length === 0) return <p class="note">No attempt latencies yet.</p>;
  return (
    <Plot
      label={`Latency of each attempt in the newest ${LATENCY_SAMPLE} deliveries, in milliseconds`}
      x={points.x}
      yLabel="ms"
      series={[{ label: 'latency (ms)', values: points.y, stroke: '#0550ae', points: true }]}
    />
  );
}

function Attempts({ id }: { id: string }) {
  const detail = useApi<{ attempts: Attempt[] }>(`/deliveries/${seg(id)}`);
  const waiting = loadState(detail, 'The delivery detail');
  if (waiting) return waiting;
  const attempts = detail.data?.attempts ?? [];
  return (
    <table class="attempts">
      <caption>Attempts of delivery {id}</caption>
      <thead>
        <tr>
          <th scope="col">Attempt</th>
          <th scope="col">Started</th>
          <th scope="col">Status</th>
          <th scope="col">Latency</th>
          <th scope="col">Error</th>
          <th scope="col">Response</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((attempt) => (
          <tr key={attempt.attempt}>
            <td>{attempt.attempt}</td>
            <td>{formatTime(attempt.started_at)}</td>
            <td>{attempt.status_code ?? '—'}</td>
            <td>{attempt.latency_ms === undefined ? '—' : `${attempt.latency_ms} ms`}</td>
            <td>{attempt.error ?? ''}</td>
            <td>
              <DataBlock
                value={attempt.response_headers ?? {}}
                label={`Response headers of attempt ${attempt.attempt}`}
              />
              <DataBlock value={attempt.response_body ?? ''} label={`Response body of attempt ${attempt.attempt}`} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Deliveries({ id, deliveries, reload }: { id: string; deliveries: DeliverySummary[]; reload: () => void }) {
  const [open, setOpen] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  async function replay(deliveryId: string) {
    try {
      await api('POST', `/deliveries/${seg(deliveryId)}/replay`);
      setMessage(`Delivery ${deliveryId} queued again.`);
      reload();
    } catch (error) {
      setMessage(`Replay failed: ${(error as Error).message}`);
    }
  }
  return (
    <>
      <p role="status" class="note">
        {message ?? ''}
      </p>
      <table class="deliveries">
        <caption>Deliveries of hook {id}, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Delivery</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last code</th>
            <th scope="col">Last error</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.flatMap((d) => [
            <tr key={d.id}>
              <td>{d.id}</td>
              <td>{d.event_id ? <a href={`#/events/${seg(d.event_id)}`}>{d.event_id.slice(0, 8)}</a> : '—'}</td>
              <td>
                <Badge value={d.status} />
              </td>
              <td>{d.attempts ?? '—'}</td>
              <td>{d.last_status_code ?? '—'}</td>
              <td>{d.last_error ?? ''}</td>
              <td>{formatTime(d.created_at)}</td>
              <td>
                <button
                  type="button"
                  aria-expanded={open === d.id}
                  onClick={() => setOpen(open === d.id ? undefined : d.id)}
                >
                  {open === d.id ? 'Hide attempts' : 'Show attempts'}
                </button>{' '}
                <button type="button" onClick={() => replay(d.id)}>
                  Replay
                </button>
              </td>
            </tr>,
            ...(open === d.id
              ? [
                  <tr key={`${d.id}-attempts`}>
                    <td colSpan={8}>
                      <Attempts id={d.id} />
                    </td>
                  </tr>,
                ]
              : []),
          ])}
        </tbody>
      </table>
    </>
  );
}

/** Test (with sample data) and ping, with the answer shown as text. */
function Actions({ id, handler }: { id: string; handler: string }) {
  const [data, setData] = useState('{}');
  const [result, setResult] = useState<unknown>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await action());
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  }
  const test = () => run(() => api('POST', `/event-hooks/${seg(id)}/test`, JSON.parse(data || '{}')));
  const ping = () => run(() => api('GET', `/event-hooks/${seg(id)}/ping`));
  return (
    <section aria-labelledby="actions-title">
      <h2 id="actions-title">Test and ping</h2>
      <div class="field">
        <label for="test-data">Test event data (JSON)</label>
        <textarea
          id="test-data"
          rows={3}
          spellcheck={false}
          value={data}
          onInput={(e) => setData(e.currentTarget.value)}
        />
      </div>
      <p class="actions">
        <button type="button" onClick={test} disabled={busy}>
          Test
        </button>
        {(handler === 'webhook' || handler === 'webhook-custom') && (
          <button type="button" onClick={ping} disabled={busy}>
            Ping
          </button>
        )}
      </p>
      {error && <ErrorNote error={error} />}
      {result !== undefined && <DataBlock value={result} label="Result of the test or ping" />}
    </section>
  );
}

const DELIVERY_STATUSES = ['pending', 'delivered', 'retrying', 'dead'];

/** Enables or disables the hook (`PATCH {enabled}`), shown once the API answers the field. */
function EnabledToggle({ hook, reload }: { hook: HookView; reload: () => void }) {
  const [error, setError] = useState<Error | undefined>();
  if (hook.enabled === undefined) return null;
  async function toggle() {
    try {
      await api('PATCH', `/event-hooks/${seg(hook.id)}`, { enabled: !hook.enabled });
      setError(undefined);
      reload();
    } catch (failure) {
      setError(failure as Error);
    }
  }
  return (
    <>
      <button type="button" onClick={toggle}>
        {hook.enabled ? 'Disable hook' : 'Enable hook'}
      </button>
      {error && <ErrorNote error={error} />}
    </>
  );
}

export function HookPage({ id }: { id: string }) {
  const [status, setStatus] = useState('');
  const hook = useApi<HookView>(`/event-hooks/${seg(id)}`);
  const health = useApi<Record<string, unknown>>(`/event-hooks/${seg(id)}/health`);
  const deliveries = useApi<{ data: DeliverySummary[] }>(
    `/event-hooks/${seg(id)}/deliveries?size=1000${status ? `&status=${status}` : ''}`,
  );
  const outcome = useMemo(() => (deliveries.data ? outcomeSeries(deliveries.data.data) : undefined), [deliveries.data]);
  const waiting = loadState(hook, 'The hook', false);
  if (waiting)
    return (
      <>
        <PageTitle>Hook {id}</PageTitle>
        {waiting}
      </>
    );
  const h = hook.data as HookView;
  const list = deliveries.data?.data ?? [];
  return (
    <>
      <PageTitle>
        Hook {h.source} / {h.event ?? 'every event'}
      </PageTitle>
      <dl class="facts">
        <dt>Id</dt>
        <dd>{h.id}</dd>
        <dt>Handler</dt>
        <dd>{h.handler}</dd>
        <dt>Enabled</dt>
        <dd>{h.enabled === false ? 'no' : 'yes'}</dd>
        <dt>Health</dt>
        <dd>{health.data ? healthSummary(health.data) : health.error ? 'not available' : '…'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(h.created_at)}</dd>
      </dl>
      <p class="actions">
        <a class="button" href={`#/hooks/${seg(h.id)}/edit`}>
          Edit hook
        </a>
        <EnabledToggle hook={h} reload={hook.reload} />
        <button type="button" onClick={deliveries.reload}>
          Refresh deliveries
        </button>
      </p>
      <details>
        <summary>Configuration</summary>
        <DataBlock value={h.config} label="Hook configuration" />
      </details>
      <Actions id={h.id} handler={h.handler} />
      <section aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Deliveries</h2>
        <p class="filters">
          <label for="delivery-status">Status</label>
          <select id="delivery-status" value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
            <option value="">All</option>
            {DELIVERY_STATUSES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </p>
        {loadState(deliveries, 'Delivery history') ??
          (list.length === 0 ? (
            <p class="note">{status ? `No ${status} deliveries.` : 'No deliveries yet.'}</p>
          ) : (
            <>
              {outcome && (
                <Plot
                  label="Deliveries over time by outcome"
                  x={outcome.x}
                  yLabel="deliveries"
                  series={outcome.series}
                />
              )}
              <LatencyPlot deliveries={list} />
              <Deliveries id={h.id} deliveries={list} reload={deliveries.reload} />
            </>
          ))}
      </section>
    </>
  );
}
