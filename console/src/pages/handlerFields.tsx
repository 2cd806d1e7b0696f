import { Check, Field } from '../form.tsx';
import { LambdaFields } from './codeEditor.tsx';
import type { HandlerFieldProps as Props } from './hookDraft.ts';
import { TemplatePreview } from './templatePreview.tsx';

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];

function TextInput({
  draft,
  set,
  errors,
  name,
  label,
  hint,
}: Props & { name: 'url' | 'secret'; label: string; hint?: string }) {
  return (
    <Field name={`config.${name}`} label={label} errors={errors} {...(hint ? { hint } : {})}>
      {(props) => (
        <input {...props} value={draft[name]} onInput={(event) => set({ [name]: event.currentTarget.value })} />
      )}
    </Field>
  );
}

function JsonArea({
  draft,
  set,
  errors,
  name,
  label,
  hint,
}: Props & { name: 'headers' | 'payload'; label: string; hint: string }) {
  return (
    <Field name={`config.${name}`} label={label} errors={errors} hint={hint}>
      {(props) => (
        <textarea
          {...props}
          rows={3}
          spellcheck={false}
          value={draft[name]}
          onInput={(event) => set({ [name]: event.currentTarget.value })}
        />
      )}
    </Field>
  );
}

function Signing({ draft, set, errors }: Props) {
  return (
    <Field name="config.signing" label="Signing scheme" errors={errors}>
      {(props) => (
        <select {...props} value={draft.signing} onChange={(event) => set({ signing: event.currentTarget.value })}>
          <option value="">Kong (default)</option>
          <option value="kong">kong</option>
          <option value="standard-webhooks">standard-webhooks</option>
        </select>
      )}
    </Field>
  );
}

export function HandlerFields(props: Props) {
  const { draft, set, errors } = props;
  if (draft.handler === 'log') return <p class="note">The log handler has no settings.</p>;
  return (
    <fieldset>
      <legend>{draft.handler} settings</legend>
      {draft.handler === 'lambda' && <LambdaFields {...props} />}
      {draft.handler === 'webhook' && (
        <>
          <TextInput {...props} name="url" label="URL" />
          <JsonArea {...props} name="headers" label="Headers (JSON object)" hint="Empty: no extra headers." />
          <TextInput {...props} name="secret" label="Secret" hint="Signs each request; empty: unsigned." />
          <Signing {...props} />
          <Check
            name="config.ssl_verify"
            label="Verify TLS certificates"
            checked={draft.ssl_verify}
            errors={errors}
            onChange={(ssl_verify) => set({ ssl_verify })}
          />
        </>
      )}
      {draft.handler === 'webhook-custom' && (
        <>
          <TextInput {...props} name="url" label="URL" />
          <Field name="config.method" label="Method" errors={errors}>
            {(p) => (
              <select {...p} value={draft.method} onChange={(event) => set({ method: event.currentTarget.value })}>
                {METHODS.map((method) => (
                  <option key={method} value={method}>
                    {method}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field
            name="config.body"
            label="Body template"
            errors={errors}
            hint="Mustache: {{ entity.username }} is escaped, {{{ raw }}} is not."
          >
            {(p) => (
              <textarea
                {...p}
                class="code"
                rows={6}
                spellcheck={false}
                value={draft.body}
                onInput={(event) => set({ body: event.currentTarget.value })}
              />
            )}
          </Field>
          <Check
            name="config.body_format"
            label="Render the body as a template"
            checked={draft.body_format}
            errors={errors}
            onChange={(body_format) => set({ body_format })}
          />
          <JsonArea {...props} name="headers" label="Headers (JSON object)" hint="Empty: no extra headers." />
          <Check
            name="config.headers_format"
            label="Render header values as templates"
            checked={draft.headers_format}
            errors={errors}
            onChange={(headers_format) => set({ headers_format })}
          />
          <JsonArea
            {...props}
            name="payload"
            label="Payload (JSON object)"
            hint="Sent as a form or JSON when there is no body."
          />
          <Check
            name="config.payload_format"
            label="Render payload values as templates"
            checked={draft.payload_format}
            errors={errors}
            onChange={(payload_format) => set({ payload_format })}
          />
          <TextInput {...props} name="secret" label="Secret" hint="Signs each request; empty: unsigned." />
          <Signing {...props} />
          <Check
            name="config.ssl_verify"
            label="Verify TLS certificates"
            checked={draft.ssl_verify}
            errors={errors}
            onChange={(ssl_verify) => set({ ssl_verify })}
          />
          <TemplatePreview {...props} />
        </>
      )}
    </fieldset>
  );
}
