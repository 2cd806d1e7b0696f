import { useEffect, useState } from 'preact/hooks';
import { HANDLER_NAMES } from '../../../shared/hooks/hook.ts';
import { ApiError, api, seg } from '../api.ts';
import { ErrorNote, loadState, PageTitle } from '../components.tsx';
import { Flag, Select, TextField, useForm } from '../form.tsx';
import { useApi } from '../hooks.ts';
import { HandlerFields } from './handlerFields.tsx';
import { bodyOf, type Draft, draftOf, EMPTY } from './hookDraft.ts';
import type { HookView } from './hooks.tsx';

export function HookFormPage({ id }: { id?: string }) {
  const original = useApi<HookView>(id === undefined ? null : `/event-hooks/${seg(id)}`);
  const catalog = useApi<{ data: Record<string, Record<string, unknown>> }>('/event-hooks/sources');
  const form = useForm<Draft>(EMPTY);
  const { draft, set, setDraft, errors, setErrors, failure, setFailure } = form;
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (original.data) setDraft(draftOf(original.data));
  }, [original.data]);

  if (id !== undefined) {
    const waiting = loadState(original, 'The hook', false);
    if (waiting) return waiting;
  }
  const sources = Object.keys(catalog.data?.data ?? {}).sort();
  const events = Object.keys(catalog.data?.data?.[draft.source] ?? {}).sort();

  async function submit(event: Event) {
    event.preventDefault();
    const local: Record<string, string> = {};
    const body = bodyOf(draft, original.data, local);
    if (Object.keys(local).length > 0) {
      setErrors(local);
      setFailure('Some fields need fixing.');
      return;
    }
    setSaving(true);
    await form.attempt(async () => {
      const saved =
        id === undefined
          ? await api<HookView>('POST', '/event-hooks', body)
          : await api<HookView>('PUT', `/event-hooks/${seg(id)}`, body);
      location.hash = `#/hooks/${seg(saved.id)}`;
    });
    setSaving(false);
  }

  const shown = new Set(FIELD_NAMES);
  const elsewhere = Object.entries(errors).filter(
    ([name]) => !shown.has(name) && !name.startsWith('config.functions.'),
  );
  return (
    <>
      <PageTitle>{id === undefined ? 'New hook' : 'Edit hook'}</PageTitle>
      <form class="hook-form" onSubmit={submit} noValidate>
        {failure && (
          <div class="error" role="alert">
            <p>{failure}</p>
            {elsewhere.length > 0 && (
              <ul>
                {elsewhere.map(([name, message]) => (
                  <li key={name}>
                    {name}: {message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <fieldset>
          <legend>What fires the hook</legend>
          <Select form={form} field="handler" label="Handler" options={HANDLER_NAMES} disabled={id !== undefined} />
          <TextField form={form} field="source" label="Source" list="known-sources" />
          <datalist id="known-sources">
            {sources.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <TextField
            form={form}
            field="event"
            label="Event"
            hint="Empty: every event of the source."
            list="known-events"
          />
          <datalist id="known-events">
            {events.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <Flag form={form} field="on_change" label="Only when the data changed (on_change)" />
          <TextField form={form} field="snooze" label="Snooze (seconds)" hint="Empty: no snooze." inputMode="numeric" />
          <TextField
            form={form}
            field="filter"
            label="Filter (EventBridge pattern, JSON)"
            hint="Empty: every event."
            rows={3}
          />
          <Flag form={form} field="enabled" label="Enabled" />
        </fieldset>
        <HandlerFields draft={draft} set={set} errors={errors} hookId={id} />
        <p class="actions">
          <button type="submit" disabled={saving}>
            {id === undefined ? 'Create hook' : 'Save hook'}
          </button>
          <a href={id === undefined ? '#/hooks' : `#/hooks/${seg(id)}`}>Cancel</a>
        </p>
        {catalog.error && catalog.error.message !== '' && !(catalog.error instanceof ApiError) && (
          <ErrorNote error={catalog.error} />
        )}
      </form>
    </>
  );
}

/** The error names a field of the form shows next to itself; any other goes in the summary. */
const FIELD_NAMES = [
  'handler',
  'source',
  'event',
  'on_change',
  'snooze',
  'filter',
  'enabled',
  'config.url',
  'config.secret',
  'config.ssl_verify',
  'config.signing',
  'config.headers',
  'config.headers_format',
  'config.method',
  'config.payload',
  'config.payload_format',
  'config.body',
  'config.body_format',
  'config.functions',
];
