import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api.ts';
import { Badge, DataBlock, formatTime, loadState } from '../components.tsx';
import { useApi } from '../hooks.ts';
import { Plot, type PlotSeries } from '../plot.tsx';
import type { DeliverySummary } from './hooks.tsx';

export interface Attempt {
  attempt: number;
  started_at?: number | string;
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

/** Unix seconds from seconds, milliseconds or an ISO date, whichever the log answers. */
const seconds = (value: number | string | undefined) => {
  if (value === undefined) return 0;
  if (typeof value === 'string') return Date.parse(value) / 1000 || 0;
  return value > 1e12 ? value / 1000 : value;
};

/** Deliveries counted per time bucket and status, for the outcome plot. */
export function outcomeSeries(deliveries: DeliverySummary[]): { x: number[]; series: PlotSeries[] } {
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

export function LatencyPlot({ deliveries }: { deliveries: DeliverySummary[] }) {
  const [points, setPoints] = useState<{ x: number[]; y: number[] } | undefined>();
  useEffect(() => {
    const newest = deliveries.slice(0, LATENCY_SAMPLE);
    Promise.all(
      newest.map((d) => api<{ attempts: Attempt[] }>('GET', `/deliveries/${seg(d.id)}`).catch(() => undefined)),
    ).then((details) => {
      const samples = details
        .flatMap((detail) => detail?.attempts ?? [])
        .filter((a) => typeof a.latency_ms === 'number' && a.started_at !== undefined)
        .map((a) => [seconds(a.started_at), a.latency_ms as number] as const)
        .sort((a, b) => a[0] - b[0]);
      setPoints({ x: samples.map((s) => s[0]), y: samples.map((s) => s[1]) });
    });
  }, [deliveries]);
  // A new series array would make the plot draw itself again on every render of the page.
  const series = useMemo(
    () => (points ? [{ label: 'latency (ms)', values: points.y, stroke: '#0550ae', points: true }] : []),
    [points],
  );
  if (!points) return <p class="note">Loading latencies…</p>;
  if (points.x.length === 0) return <p class="note">No attempt latencies yet.</p>;
  return (
    <Plot
      label={`Latency of each attempt in the newest ${LATENCY_SAMPLE} deliveries, in milliseconds`}
      x={points.x}
      yLabel="ms"
      series={series}
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

export function Deliveries({
  id,
  deliveries,
  reload,
}: {
  id: string;
  deliveries: DeliverySummary[];
  reload: () => void;
}) {
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
