import { Flag, Select, TextField } from '../form.tsx';
import { LambdaFields } from './codeEditor.tsx';
import type { HandlerFieldProps as Props } from './hookDraft.ts';
import { TemplatePreview } from './templatePreview.tsx';

const METHODS = ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'];
const SIGNING = [['', 'Kong (default)'], 'kong', 'standard-webhooks'] as const;

function Url(props: Props) {
  return <TextField form={props} field="url" name="config.url" label="URL" />;
}

function Headers(props: Props) {
  return (
    <TextField
      form={props}
      field="headers"
      name="config.headers"
      label="Headers (JSON object)"
      hint="Empty: no extra headers."
      rows={3}
    />
  );
}

/** How both webhook handlers sign and check TLS. */
function Signed(props: Props) {
  return (
    <>
      <TextField
        form={props}
        field="secret"
        name="config.secret"
        label="Secret"
        hint="Signs each request; empty: unsigned."
      />
      <Select form={props} field="signing" name="config.signing" label="Signing scheme" options={SIGNING} />
      <Flag form={props} field="ssl_verify" name="config.ssl_verify" label="Verify TLS certificates" />
    </>
  );
}

export function HandlerFields(props: Props) {
  const { draft } = props;
  if (draft.handler === 'log') return <p class="note">The log handler has no settings.</p>;
  return (
    <fieldset>
      <legend>{draft.handler} settings</legend>
      {draft.handler === 'lambda' && <LambdaFields {...props} />}
      {draft.handler === 'webhook' && (
        <>
          <Url {...props} />
          <Headers {...props} />
          <Signed {...props} />
        </>
      )}
      {draft.handler === 'webhook-custom' && (
        <>
          <Url {...props} />
          <Select form={props} field="method" name="config.method" label="Method" options={METHODS} />
          <TextField
            form={props}
            field="body"
            name="config.body"
            label="Body template"
            hint="Mustache: {{ entity.username }} is escaped, {{{ raw }}} is not."
            rows={6}
            code
          />
          <Flag form={props} field="body_format" name="config.body_format" label="Render the body as a template" />
          <Headers {...props} />
          <Flag
            form={props}
            field="headers_format"
            name="config.headers_format"
            label="Render header values as templates"
          />
          <TextField
            form={props}
            field="payload"
            name="config.payload"
            label="Payload (JSON object)"
            hint="Sent as a form or JSON when there is no body."
            rows={3}
          />
          <Flag
            form={props}
            field="payload_format"
            name="config.payload_format"
            label="Render payload values as templates"
          />
          <Signed {...props} />
          <TemplatePreview {...props} />
        </>
      )}
    </fieldset>
  );
}
