import { useState } from 'preact/hooks';
import { api, seg } from '../api.ts';
import { Badge, DataBlock, formatTime, loadState, PageTitle } from '../components.tsx';
import { FailureAlert, parseJsonField, TextField, useForm } from '../form.tsx';
import { useApi } from '../hooks.ts';

interface EventView {
  id: string;
  source?: string;
  event?: string | null;
  time?: number;
  data?: unknown;
  data_bytes?: number;
  hooks: { hook_id: string; outcome: string; delivery_id?: string | null }[];
}

/** What each outcome means, in words, for "why didn't my hook fire?". */
const OUTCOMES: Record<string, string> = {
  queued: 'queued for delivery',
  'suppressed:snooze': 'suppressed by snooze (fired recently)',
  'suppressed:on_change': 'suppressed by on_change (data unchanged)',
  'suppressed:threshold': 'suppressed by the threshold (count not reached)',
  filtered: 'filtered out by the hook’s filter',
  disabled: 'the hook is disabled',
  failed_to_queue: 'could not be queued',
};

function EventResult({ id }: { id: string }) {
  const found = useApi<EventView>(`/events/${seg(id)}`);
  if (found.error && (found.error as { status?: number }).status === 404) {
    return (
      <p class="note" role="status">
        No event {id} is known: it may be older than the retention window, or event lookup is not available in this
        deployment.
      </p>
    );
  }
  const waiting = loadState(found, 'Event lookup');
  if (waiting) return waiting;
  const event = found.data as EventView;
  return (
    <section aria-labelledby="event-title">
      <h2 id="event-title">Event {event.id}</h2>
      <dl class="facts">
        <dt>Source</dt>
        <dd>{event.source ?? '—'}</dd>
        <dt>Event</dt>
        <dd>{event.event ?? '—'}</dd>
        <dt>Received</dt>
        <dd>{formatTime(event.time)}</dd>
      </dl>
      {event.hooks.length === 0 ? (
        <p class="note">The event matched no hook.</p>
      ) : (
        <table>
          <caption>What happened per hook</caption>
          <thead>
            <tr>
              <th scope="col">Hook</th>
              <th scope="col">Outcome</th>
              <th scope="col">Meaning</th>
              <th scope="col">Delivery</th>
            </tr>
          </thead>
          <tbody>
            {event.hooks.map((hook) => (
              <tr key={hook.hook_id}>
                <td>
                  <a href={`#/hooks/${seg(hook.hook_id)}`}>{hook.hook_id}</a>
                </td>
                <td>
                  <Badge value={hook.outcome} />
                </td>
                <td>{OUTCOMES[hook.outcome] ?? hook.outcome}</td>
                <td>{hook.delivery_id ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Data</h3>
      {event.data === null && typeof event.data_bytes === 'number' ? (
        <p class="note">Not kept: {event.data_bytes} bytes, over what is kept while body capture is off.</p>
      ) : (
        <DataBlock value={event.data ?? {}} label="Event data" />
      )}
    </section>
  );
}

/** `POST /events`: one event, as a producer sends it; the answer's id opens its lookup. */
function SendEvent() {
  const form = useForm({ source: 'crud', event: 'consumers', data: '{\n  "operation": "create"\n}' });
  const [sent, setSent] = useState<string | undefined>();
  async function submit(event: Event) {
    event.preventDefault();
    const data = parseJsonField(form.draft.data);
    if ('error' in data) {
      form.setErrors({ data: data.error });
      return;
    }
    await form.attempt(async () => {
      const answer = await api<{ data: { id: string }[] }>('POST', '/events', {
        source: form.draft.source,
        event: form.draft.event,
        data: data.value ?? {},
      });
      setSent(answer.data[0]?.id);
    });
  }
  return (
    <form class="send-event" onSubmit={submit} aria-labelledby="send-title">
      <h2 id="send-title">Send an event</h2>
      <FailureAlert failure={form.failure} />
      <TextField form={form} field="source" label="Source" />
      <TextField form={form} field="event" label="Event" />
      <TextField form={form} field="data" label="Data (JSON)" rows={4} />
      <button type="submit">Send event</button>
      {sent && (
        <p role="status">
          Accepted as <a href={`#/events/${seg(sent)}`}>{sent}</a>.
        </p>
      )}
    </form>
  );
}

export function EventsPage({ id }: { id?: string }) {
  const [value, setValue] = useState(id ?? '');
  return (
    <>
      <PageTitle>Events</PageTitle>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim()) location.hash = `#/events/${seg(value.trim())}`;
        }}
      >
        <label for="event-id">Event id</label>
        <input id="event-id" value={value} onInput={(event) => setValue(event.currentTarget.value)} />
        <button type="submit">Look up</button>
      </form>
      {id !== undefined && <EventResult id={id} />}
      <SendEvent />
    </>
  );
}
