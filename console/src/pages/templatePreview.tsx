import { useState } from 'preact/hooks';
import { renderTemplate, renderValues } from '../../../shared/hooks/templates.ts';
import { api, seg } from '../api.ts';
import { DataBlock, ErrorNote } from '../components.tsx';
import { PlainArea, parseJsonField } from '../form.tsx';
import type { HandlerFieldProps as Props } from './hookDraft.ts';

const SAMPLE = '{\n  "operation": "create",\n  "entity": { "username": "ann", "id": "42" }\n}';

/**
 * What the templates render for the sample event, as the delivery would: the server's own renderer
 * (shared/hooks/templates.ts) runs here on every keystroke, and "Test on the server" sends the saved
 * hook's request through `/test` with the same sample.
 */
export function TemplatePreview({ draft, hookId }: Props) {
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
      <PlainArea id="sample-data" label="Sample event data (JSON)" rows={5} value={sample} onValue={setSample} />
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
