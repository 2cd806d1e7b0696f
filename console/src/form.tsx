import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.ts';

/** Kong's `fields` (nested) flattened to `config.url` → message, lists joined. */
export function flattenFields(fields: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fields || typeof fields !== 'object') return out;
  for (const [key, value] of Object.entries(fields as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out[path] = value;
    else if (Array.isArray(value)) out[path] = value.map(String).join('; ');
    else Object.assign(out, flattenFields(value, path));
  }
  return out;
}

const idOf = (name: string) => `field-${name.replace(/[^a-zA-Z0-9_-]/g, '-')}`;

/**
 * A labelled control with its error underneath, tied to it by `aria-describedby` so a screen reader
 * reads the error with the field. `children` gets the id and the error state.
 */
export function Field({
  name,
  label,
  errors,
  hint,
  children,
}: {
  name: string;
  label: string;
  errors: Record<string, string>;
  hint?: string;
  children: (props: { id: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string }) => ComponentChildren;
}) {
  const id = idOf(name);
  const error = errors[name];
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children({
        id,
        ...(error ? { 'aria-invalid': 'true' as const } : {}),
        ...(described ? { 'aria-describedby': described } : {}),
      })}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A checkbox with its label after it, and its error. */
export function Check({
  name,
  label,
  checked,
  errors,
  onChange,
}: {
  name: string;
  label: string;
  checked: boolean;
  errors: Record<string, string>;
  onChange: (checked: boolean) => void;
}) {
  const id = idOf(name);
  const error = errors[name];
  return (
    <div class={`field check${error ? ' invalid' : ''}`}>
      <input
        id={id}
        type="checkbox"
        checked={checked}
        onChange={(event) => onChange(event.currentTarget.checked)}
        {...(error ? { 'aria-invalid': 'true', 'aria-describedby': `${id}-error` } : {})}
      />
      <label for={id}>{label}</label>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** Parses a JSON text field; empty is `null`. */
export function parseJsonField(text: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { value: null };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
}

/** A form's values as its controls hold them, how a control changes them, and the errors by field name. */
export interface FormState<T> {
  draft: T;
  set: (patch: Partial<T>) => void;
  errors: Record<string, string>;
}

/**
 * A form's state, and `attempt`, which runs its request: on success the errors go, on failure an
 * API error's `fields` go next to their fields and its message in `failure`, above the form.
 */
export function useForm<T>(initial: T) {
  const [draft, setDraft] = useState<T>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const set = (patch: Partial<T>) => setDraft((current) => ({ ...current, ...patch }));
  async function attempt(action: () => Promise<void>): Promise<void> {
    try {
      await action();
      setErrors({});
      setFailure(undefined);
    } catch (error) {
      setErrors(error instanceof ApiError ? flattenFields(error.body.fields) : {});
      setFailure(error instanceof Error ? error.message : String(error));
    }
  }
  return { draft, set, setDraft, errors, setErrors, failure, setFailure, attempt };
}

/** The form's failure, announced as it appears. */
export function FailureAlert({ failure }: { failure: string | undefined }) {
  return failure ? (
    <p class="error" role="alert">
      {failure}
    </p>
  ) : null;
}

/** The names of `T`'s fields that hold a `V`. */
type FieldOf<T, V> = { [K in keyof T]-?: T[K] extends V ? K : never }[keyof T] & string;

interface ControlProps<T, V> {
  form: FormState<T>;
  field: FieldOf<T, V>;
  /** The name errors come under, when not the field's own (`config.url` for `url`). */
  name?: string;
  label: string;
  hint?: string;
}

const hintOf = (hint: string | undefined) => (hint ? { hint } : {});

/**
 * A text control bound to one string field of a form: an input, or with `rows` a textarea (`code`
 * sets it in the code font).
 */
export function TextField<T>({
  form,
  field,
  name = field,
  label,
  hint,
  list,
  inputMode,
  rows,
  code = false,
}: ControlProps<T, string> & { list?: string; inputMode?: 'numeric'; rows?: number; code?: boolean }) {
  const value = form.draft[field] as string;
  const onInput = (event: Event) =>
    form.set({ [field]: (event.currentTarget as HTMLInputElement | HTMLTextAreaElement).value } as Partial<T>);
  return (
    <Field name={name} label={label} errors={form.errors} {...hintOf(hint)}>
      {(props) =>
        rows === undefined ? (
          <input
            {...props}
            {...(list ? { list } : {})}
            {...(inputMode ? { inputMode } : {})}
            value={value}
            onInput={onInput}
          />
        ) : (
          <textarea
            {...props}
            {...(code ? { class: 'code' } : {})}
            rows={rows}
            spellcheck={false}
            value={value}
            onInput={onInput}
          />
        )
      }
    </Field>
  );
}

/** A select bound to one string field of a form; an option is its value, or its value and label. */
export function Select<T>({
  form,
  field,
  name = field,
  label,
  options,
  disabled = false,
}: ControlProps<T, string> & {
  options: readonly (string | readonly [value: string, label: string])[];
  disabled?: boolean;
}) {
  return (
    <Field name={name} label={label} errors={form.errors}>
      {(props) => (
        <select
          {...props}
          value={form.draft[field] as string}
          disabled={disabled}
          onChange={(event) => form.set({ [field]: event.currentTarget.value } as Partial<T>)}
        >
          {options.map((option) => {
            const [value, text] = typeof option === 'string' ? [option, option] : option;
            return (
              <option key={value} value={value}>
                {text}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}

/** A checkbox bound to one boolean field of a form. */
export function Flag<T>({ form, field, name = field, label }: Omit<ControlProps<T, boolean>, 'hint'>) {
  return (
    <Check
      name={name}
      label={label}
      checked={form.draft[field] as boolean}
      errors={form.errors}
      onChange={(checked) => form.set({ [field]: checked } as Partial<T>)}
    />
  );
}

/** A labelled textarea outside a form's fields (sample data): no error of its own. */
export function PlainArea({
  id,
  label,
  rows,
  value,
  onValue,
}: {
  id: string;
  label: string;
  rows: number;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea
        id={id}
        rows={rows}
        spellcheck={false}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </div>
  );
}
