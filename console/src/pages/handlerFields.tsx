import { useState } from 'preact/hooks';
import { renderTemplate, renderValues } from '../../../shared/hooks/templates.ts';
import { api, seg } from '../api.ts';
import { DataBlock, ErrorNote } from '../components.tsx';
import { Check, Field, parseJsonField } from '../form.tsx';
import type { Draft } from './hookDraft.ts';

interface Props {
  draft: Draft;
  set: (patch: Partial<Draft>) => void;
  errors: Record<string, string>;
  hookId: string | undefined;
}

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
const SAMPLE = '{\n  "operation": "create",\n  "entity": { "username": "ann", "id": "42" }\n}';

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

/**
 * What the templates render for the sample event, as the delivery would: the server's own renderer
 * (shared/hooks/templates.ts) runs here on every keystroke, and "Test on the server" sends the saved
 * hook's request through `/test` with the same sample.
 */
function TemplatePreview({ draft, hookId }: Props) {
  const [sample, setSample] = useState(SAMPLE);
  const [serverResult, setServerResult] = useState<unknown>();
  const [serverError, setServerError] = useState<Error | undefined>();
  const [testing, setTesting] = useState(false);
  const parsed = parseJsonField(sample);
  let body = '';
  let others: Record<string, unknown> | undefined;
  if ('error' in parsed) body = `sample event data is ${parsed.error}`;
  else {
    const data = {
      ...((parsed.value as Record<string, unknown>) ?? {}),
      ...(draft.event ? { event: draft.event } : {}),
      source: draft.source,
    };
    try {
      body = draft.body === '' ? '(no body)' : draft.body_format ? renderTemplate(draft.body, data) : draft.body;
      const headers = parseJsonField(draft.headers);
      const payload = parseJsonField(draft.payload);
      const rendered = {
        ...('value' in headers && headers.value && draft.headers_format
          ? { headers: renderValues(headers.value as Record<string, string>, data) }
          : {}),
        ...('value' in payload && payload.value && draft.payload_format
          ? { payload: renderValues(payload.value as Record<string, string>, data) }
          : {}),
      };
      if (Object.keys(rendered).length > 0) others = rendered;
    } catch (error) {
      body = (error as Error).message;
    }
  }

  async function testOnServer() {
    if (hookId === undefined || 'error' in parsed) return;
    setTesting(true);
    setServerError(undefined);
    try {
      setServerResult(await api('POST', `/event-hooks/${seg(hookId)}/test`, parsed.value ?? {}));
    } catch (error) {
      setServerError(error as Error);
    } finally {
      setTesting(false);
    }
  }

  return (
    <section class="preview" aria-labelledby="preview-title">
      <h3 id="preview-title">Template preview</h3>
      <div class="field">
        <label for="sample-data">Sample event data (JSON)</label>
        <textarea
          id="sample-data"
          rows={5}
          spellcheck={false}
          value={sample}
          onInput={(event) => setSample(event.currentTarget.value)}
        />
      </div>
      <h4>Rendered</h4>
      <output for="field-config-body sample-data" aria-live="polite">
        <DataBlock value={body} label="Rendered body" />
        {others && <DataBlock value={others} label="Rendered headers and payload" />}
      </output>
      {hookId !== undefined ? (
        <p>
          <button type="button" onClick={testOnServer} disabled={testing}>
            Test on the server
          </button>{' '}
          <span class="hint">Sends the saved hook's request with the sample data.</span>
        </p>
      ) : (
        <p class="hint">Save the hook to test it on the server.</p>
      )}
      {serverError && <ErrorNote error={serverError} />}
      {serverResult !== undefined && <DataBlock value={serverResult} label="Server test result" />}
    </section>
  );
}

function LambdaFields({ draft, set, errors }: Props) {
  const update = (index: number, code: string) =>
    set({ functions: draft.functions.map((value, i) => (i === index ? code : value)) });
  const functionErrors = Object.entries(errors).filter(([name]) => name.startsWith('config.functions'));
  return (
    <>
      {draft.functions.map((code, index) => (
        <div class="field" key={index}>
          <label for={`function-${index}`}>Function {index + 1} (JavaScript, or a Lambda name or ARN)</label>
          <textarea
            id={`function-${index}`}
            class="code"
            rows={10}
            spellcheck={false}
            autocapitalize="off"
            value={code}
            onInput={(event) => update(index, event.currentTarget.value)}
            onKeyDown={(event) => indentOnTab(event, (value) => update(index, value))}
          />
          <button
            type="button"
            onClick={() => set({ functions: draft.functions.filter((_, i) => i !== index) })}
            disabled={draft.functions.length === 1}
          >
            Remove function {index + 1}
          </button>
        </div>
      ))}
      <p class="hint">Tab indents inside the editor; Escape then Tab moves on.</p>
      {functionErrors.map(([name, message]) => (
        <p class="field-error" key={name}>
          {name}: {message}
        </p>
      ))}
      <button type="button" onClick={() => set({ functions: [...draft.functions, ''] })}>
        Add a function
      </button>
    </>
  );
}

/** Tab types two spaces in the code editor; after Escape it moves focus as usual (no keyboard trap). */
function indentOnTab(event: KeyboardEvent, update: (value: string) => void) {
  const area = event.currentTarget as HTMLTextAreaElement;
  if (event.key === 'Escape') {
    area.dataset.tabMoves = 'true';
    return;
  }
  if (event.key !== 'Tab' || event.shiftKey || area.dataset.tabMoves === 'true') {
    if (event.key !== 'Tab') delete area.dataset.tabMoves;
    return;
  }
  event.preventDefault();
  const { selectionStart, selectionEnd, value } = area;
  update(`${value.slice(0, selectionStart)}  ${value.slice(selectionEnd)}`);
  requestAnimationFrame(() => area.setSelectionRange(selectionStart + 2, selectionStart + 2));
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
