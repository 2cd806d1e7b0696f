import { useMemo, useState } from 'preact/hooks';
import { api, seg } from '../api.ts';
import { DataBlock, ErrorNote, formatTime, loadState, PageTitle } from '../components.tsx';
import { PlainArea } from '../form.tsx';
import { useApi } from '../hooks.ts';
import { Plot } from '../plot.tsx';
import { Deliveries, LatencyPlot, outcomeSeries } from './deliveries.tsx';
import { type DeliverySummary, type HookView, healthSummary } from './hooks.tsx';

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
      <PlainArea id="test-data" label="Test event data (JSON)" rows={3} value={data} onValue={setData} />
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
