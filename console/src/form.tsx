import type { ComponentChildren } from 'preact';

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
