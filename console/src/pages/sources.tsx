import { useState } from 'preact/hooks';
import { isBuiltinSource } from '../../../shared/hooks/catalog.ts';
import { api, seg } from '../api.ts';
import { loadState, PageTitle } from '../components.tsx';
import { FailureAlert, TextField, useForm } from '../form.tsx';
import { useApi } from '../hooks.ts';

interface EventDefinition {
  fields: string[];
  unique?: string[];
  description?: string;
}
type Catalog = Record<string, Record<string, EventDefinition>>;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

function EventsTable({
  source,
  events,
  onRemove,
}: {
  source: string;
  events: Record<string, EventDefinition>;
  onRemove?: (event: string) => void;
}) {
  return (
    <table>
      <caption>Events of {source}</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Fields</th>
          <th scope="col">Description</th>
          {onRemove && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {Object.entries(events).map(([event, definition]) => (
          <tr key={event}>
            <td>{event}</td>
            <td>{definition.fields.join(', ')}</td>
            <td>{definition.description ?? ''}</td>
            {onRemove && (
              <td>
                <button type="button" onClick={() => onRemove(event)} aria-label={`Remove event ${event} of ${source}`}>
                  Remove
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AddEvent({ onAdded }: { onAdded: () => void }) {
  const empty = { source: '', event: '', fields: '', description: '' };
  const form = useForm(empty);
  async function submit(event: Event) {
    event.preventDefault();
    const { draft } = form;
    const fields = draft.fields
      .split(',')
      .map((field) => field.trim())
      .filter(Boolean);
    await form.attempt(async () => {
      await api('PUT', `/event-hooks/sources/${seg(draft.source)}/${seg(draft.event)}`, {
        fields,
        ...(draft.description ? { description: draft.description } : {}),
      });
      form.setDraft(empty);
      onAdded();
    });
  }
  return (
    <form class="add-source" onSubmit={submit} aria-labelledby="add-title">
      <h2 id="add-title">Add an event</h2>
      <FailureAlert failure={form.failure} />
      <TextField form={form} field="source" label="Source" />
      <TextField form={form} field="event" label="Event" />
      <TextField form={form} field="fields" label="Fields" hint="Comma-separated names of the event's data fields." />
      <TextField form={form} field="description" label="Description" />
      <button type="submit">Add event</button>
    </form>
  );
}

export function SourcesPage() {
  const catalog = useApi<{ data: Catalog }>('/event-hooks/sources');
  const [message, setMessage] = useState<string | undefined>();
  const waiting = loadState(catalog, 'The source catalog', false);
  const entries = Object.entries(catalog.data?.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const builtIn = entries.filter(([source]) => isBuiltinSource(source));
  const userDefined = entries.filter(([source]) => !isBuiltinSource(source));

  async function remove(source: string, event: string) {
    try {
      await api('DELETE', `/event-hooks/sources/${seg(source)}/${seg(event)}`);
      setMessage(`Removed ${source} / ${event}.`);
    } catch (error) {
      setMessage(`Could not remove ${source} / ${event}: ${(error as Error).message}`);
    }
    catalog.reload();
  }

  return (
    <>
      <PageTitle>Sources</PageTitle>
      <p role="status" class="note">
        {message ?? ''}
      </p>
      {waiting ?? (
        <>
          <section aria-labelledby="user-title">
            <h2 id="user-title">User-defined sources</h2>
            {userDefined.length === 0 && <p class="note">None yet.</p>}
            {userDefined.map(([source, events]) => (
              <EventsTable key={source} source={source} events={events} onRemove={(event) => remove(source, event)} />
            ))}
          </section>
          <AddEvent onAdded={catalog.reload} />
          <section aria-labelledby="builtin-title">
            <h2 id="builtin-title">Built-in catalog</h2>
            {builtIn.map(([source, events]) => (
              <details key={source}>
                <summary>
                  {source} ({plural(Object.keys(events).length, 'event')})
                </summary>
                <EventsTable source={source} events={events} />
              </details>
            ))}
          </section>
        </>
      )}
    </>
  );
}
