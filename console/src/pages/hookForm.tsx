import { useEffect, useState } from 'preact/hooks';
import { HANDLER_NAMES, type HandlerName } from '../../../shared/hooks/hook.ts';
import { ApiError, api, seg } from '../api.ts';
import { ErrorNote, loadState, PageTitle } from '../components.tsx';
import { Check, Field, flattenFields } from '../form.tsx';
import { useApi } from '../hooks.ts';
import { HandlerFields } from './handlerFields.tsx';
import { bodyOf, type Draft, draftOf, EMPTY } from './hookDraft.ts';
import type { HookView } from './hooks.tsx';

export function HookFormPage({ id }: { id?: string }) {
  const original = useApi<HookView>(id === undefined ? null : `/event-hooks/${seg(id)}`);
  const catalog = useApi<{ data: Record<string, Record<string, unknown>> }>('/event-hooks/sources');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (original.data) setDraft(draftOf(original.data));
  }, [original.data]);

  if (id !== undefined) {
    const waiting = loadState(original, 'The hook', false);
    if (waiting) return waiting;
  }
  const set = (patch: Partial<Draft>) => setDraft((current) => ({ ...current, ...patch }));
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
    try {
      const saved =
        id === undefined
          ? await api<HookView>('POST', '/event-hooks', body)
          : await api<HookView>('PUT', `/event-hooks/${seg(id)}`, body);
      location.hash = `#/hooks/${seg(saved.id)}`;
    } catch (error) {
      const fields = error instanceof ApiError ? flattenFields(error.body.fields) : {};
      setErrors(fields);
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
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
          <Field name="handler" label="Handler" errors={errors}>
            {(props) => (
              <select
                {...props}
                value={draft.handler}
                disabled={id !== undefined}
                onChange={(event) => set({ handler: event.currentTarget.value as HandlerName })}
              >
                {HANDLER_NAMES.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field name="source" label="Source" errors={errors}>
            {(props) => (
              <input
                {...props}
                list="known-sources"
                value={draft.source}
                onInput={(event) => set({ source: event.currentTarget.value })}
              />
            )}
          </Field>
          <datalist id="known-sources">
            {sources.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <Field name="event" label="Event" errors={errors} hint="Empty: every event of the source.">
            {(props) => (
              <input
                {...props}
                list="known-events"
                value={draft.event}
                onInput={(event) => set({ event: event.currentTarget.value })}
              />
            )}
          </Field>
          <datalist id="known-events">
            {events.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <Check
            name="on_change"
            label="Only when the data changed (on_change)"
            checked={draft.on_change}
            errors={errors}
            onChange={(on_change) => set({ on_change })}
          />
          <Field name="snooze" label="Snooze (seconds)" errors={errors} hint="Empty: no snooze.">
            {(props) => (
              <input
                {...props}
                inputMode="numeric"
                value={draft.snooze}
                onInput={(event) => set({ snooze: event.currentTarget.value })}
              />
            )}
          </Field>
          <Field name="filter" label="Filter (EventBridge pattern, JSON)" errors={errors} hint="Empty: every event.">
            {(props) => (
              <textarea
                {...props}
                rows={3}
                spellcheck={false}
                value={draft.filter}
                onInput={(event) => set({ filter: event.currentTarget.value })}
              />
            )}
          </Field>
          <Check
            name="enabled"
            label="Enabled"
            checked={draft.enabled}
            errors={errors}
            onChange={(enabled) => set({ enabled })}
          />
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
