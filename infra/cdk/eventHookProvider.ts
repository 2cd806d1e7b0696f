import { SignatureV4 } from '@smithy/signature-v4';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { NodeSha256 } from '../../shared/adapters/aws/sigV4.ts';

/**
 * The provider of the `EventHook` construct (infra/cdk/eventHook.ts): a CloudFormation custom
 * resource handler that declares one hook on a deployed service through its public Admin API.
 *
 * - Create: `POST /event-hooks` (or `PUT /event-hooks/{HookId}` when the construct fixes the id);
 *   the hook id is the physical id.
 * - Update: `PUT /event-hooks/{id}` with the new body; a new service URL or id makes a new hook,
 *   and CloudFormation then deletes the old one (with the old properties, so at the old service).
 * - Delete: `DELETE /event-hooks/{id}`; a 404 is success (the hook, or its service, is gone).
 *
 * Hook secrets and the API key are Secrets Manager references, read here at deploy time: no secret
 * value is ever in the template or the resource's properties. It answers CloudFormation itself
 * (a PUT to the pre-signed `ResponseURL`), so it needs no provider framework. Secrets Manager is
 * called over its JSON protocol, signed with SigV4, so the bundle carries no SDK client.
 */

/** What the construct puts in the resource's properties (custom resources get strings, so JSON). */
export interface ProviderProperties {
  ServiceUrl: string;
  /** `{"type":"iam","region"?}` or `{"type":"api-key","secret":{arn,field?}}`. */
  Auth: string;
  /** The hook body without its secrets, as JSON. */
  Hook: string;
  /** `[{path: "config.secret", arn, field?}]`: secrets put into the body before it is sent. */
  Secrets?: string;
  /** A fixed hook id (UUID); default: the service generates one. */
  HookId?: string;
}

export interface SecretReference {
  arn: string;
  /** A key of the secret's JSON value; default the whole string. */
  field?: string;
}

export type ProviderAuth = { type: 'iam'; region?: string } | { type: 'api-key'; secret: SecretReference };

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ProviderDeps {
  fetch: typeof fetch;
  credentials: () => Promise<Credentials>;
  /** The provider's own region (`AWS_REGION`). */
  region: string;
  /** Secrets Manager's endpoint; default `https://secretsmanager.<region>.amazonaws.com`. */
  secretsManagerUrl?: string;
  timeoutMs?: number;
}

/** The hook answered or refused: what CloudFormation shows as the failure reason. */
export class ProviderError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Headers that sign `request` with SigV4 for `service` in `region`. */
async function signedHeaders(
  deps: ProviderDeps,
  service: string,
  region: string,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials: deps.credentials, region, service, sha256: NodeSha256 });
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { ...headers, host: url.host },
    ...(body !== undefined ? { body } : {}),
  });
  return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host')) as Record<
    string,
    string
  >;
}

/** A secret's value: `GetSecretValue`, then the JSON field if one is named. */
export async function readSecret(deps: ProviderDeps, ref: SecretReference): Promise<string> {
  // The secret's own region, from its ARN (arn:aws:secretsmanager:<region>:…).
  const region = ref.arn.split(':')[3] || deps.region;
  const url = new URL(deps.secretsManagerUrl ?? `https://secretsmanager.${region}.amazonaws.com/`);
  const body = JSON.stringify({ SecretId: ref.arn });
  const headers = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'secretsmanager.GetSecretValue',
  };
  const res = await deps.fetch(url, {
    method: 'POST',
    headers: { ...headers, ...(await signedHeaders(deps, 'secretsmanager', region, url, 'POST', headers, body)) },
    body,
    signal: AbortSignal.timeout(deps.timeoutMs ?? 20_000),
  });
  const text = await res.text();
  // Secrets Manager's errors name the type (`ResourceNotFoundException`, `AccessDeniedException`) and never the value.
  if (!res.ok) throw new ProviderError(`reading secret ${ref.arn}: ${res.status} ${errorType(text)}`);
  const value = (JSON.parse(text) as { SecretString?: unknown }).SecretString;
  if (typeof value !== 'string') throw new ProviderError(`secret ${ref.arn} has no string value`);
  if (ref.field === undefined) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ProviderError(`secret ${ref.arn} is not JSON, so it has no field '${ref.field}'`);
  }
  const field = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[ref.field] : undefined;
  if (typeof field !== 'string') throw new ProviderError(`secret ${ref.arn} has no string field '${ref.field}'`);
  return field;
}

function errorType(text: string): string {
  try {
    const type = (JSON.parse(text) as { __type?: unknown }).__type;
    return typeof type === 'string' ? type.replace(/^.*#/, '') : '';
  } catch {
    return '';
  }
}

/** Sets `value` at a dotted path (`config.secret`) of the body. */
function setPath(body: Record<string, unknown>, path: string, value: string): void {
  const keys = path.split('.');
  let at = body;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1] as string] = value;
}

/** The region of an API Gateway URL (`<id>.execute-api.<region>.amazonaws.com`). */
function apiRegion(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
}

/** One Admin API request, authenticated as the properties say; answers status and parsed body. */
async function adminRequest(
  deps: ProviderDeps,
  props: ProviderProperties,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const auth = JSON.parse(props.Auth) as ProviderAuth;
  const url = new URL(`${props.ServiceUrl.replace(/\/+$/, '')}${path}`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
  if (auth.type === 'api-key') {
    headers.authorization = `Bearer ${await readSecret(deps, auth.secret)}`;
  } else {
    const region = apiRegion(url) ?? auth.region ?? deps.region;
    Object.assign(headers, await signedHeaders(deps, 'execute-api', region, url, method, headers, text));
  }
  const res = await deps.fetch(url, {
    method,
    headers,
    ...(text !== undefined ? { body: text } : {}),
    signal: AbortSignal.timeout(deps.timeoutMs ?? 20_000),
  });
  const answer = await res.text();
  let parsed: unknown;
  try {
    parsed = answer ? JSON.parse(answer) : undefined;
  } catch {
    parsed = answer;
  }
  return { status: res.status, body: parsed };
}

/** Kong's error body (`message`, `fields`) as one line, for CloudFormation's failure reason. */
function refusal(method: string, path: string, status: number, body: unknown): ProviderError {
  const b = (body ?? {}) as { message?: unknown; fields?: unknown };
  const message = typeof b.message === 'string' ? b.message : typeof body === 'string' ? body : '';
  const fields = b.fields ? ` ${JSON.stringify(b.fields)}` : '';
  return new ProviderError(`${method} ${path}: ${status} ${message}${fields}`.slice(0, 1000));
}

/** The hook body with each referenced secret read and put in place. */
async function hookBody(deps: ProviderDeps, props: ProviderProperties): Promise<Record<string, unknown>> {
  const body = JSON.parse(props.Hook) as Record<string, unknown>;
  const secrets = props.Secrets ? (JSON.parse(props.Secrets) as (SecretReference & { path: string })[]) : [];
  for (const { path, ...ref } of secrets) setPath(body, path, await readSecret(deps, ref));
  return body;
}

/** Creates the hook; answers its id. */
async function create(deps: ProviderDeps, props: ProviderProperties): Promise<string> {
  const body = await hookBody(deps, props);
  const [method, path] = props.HookId
    ? ['PUT', `/event-hooks/${encodeURIComponent(props.HookId)}`]
    : ['POST', '/event-hooks'];
  const res = await adminRequest(deps, props, method, path, body);
  const id = (res.body as { id?: unknown } | undefined)?.id;
  if (res.status >= 300 || typeof id !== 'string') throw refusal(method, path, res.status, res.body);
  return id;
}

/**
 * What one CloudFormation event does: the physical id (the hook id) to answer with. Failures throw
 * a `ProviderError` whose message is the reason CloudFormation shows.
 */
export async function handleEvent(event: CloudFormationCustomResourceEvent, deps: ProviderDeps): Promise<string> {
  const props = event.ResourceProperties as unknown as ProviderProperties;
  if (event.RequestType === 'Create') return create(deps, props);
  const id = event.PhysicalResourceId;
  if (event.RequestType === 'Update') {
    const old = event.OldResourceProperties as unknown as ProviderProperties;
    // Another service or another fixed id is another hook: make it, CloudFormation removes the old one.
    if (old.ServiceUrl !== props.ServiceUrl || (old.HookId ?? '') !== (props.HookId ?? '') || !UUID.test(id)) {
      return create(deps, props);
    }
    const path = `/event-hooks/${encodeURIComponent(id)}`;
    const res = await adminRequest(deps, props, 'PUT', path, await hookBody(deps, props));
    if (res.status >= 300) throw refusal('PUT', path, res.status, res.body);
    return id;
  }
  // A create that failed answered a physical id that is no hook: nothing to delete.
  if (!UUID.test(id)) return id;
  const path = `/event-hooks/${encodeURIComponent(id)}`;
  const res = await adminRequest(deps, props, 'DELETE', path);
  if (res.status >= 300 && res.status !== 404) throw refusal('DELETE', path, res.status, res.body);
  return id;
}

/** Runs the event and answers CloudFormation at its `ResponseURL`, success or failure. */
export async function respond(event: CloudFormationCustomResourceEvent, deps: ProviderDeps): Promise<void> {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = '';
  let physicalId: string;
  try {
    physicalId = await handleEvent(event, deps);
  } catch (error) {
    status = 'FAILED';
    reason =
      error instanceof ProviderError
        ? error.message
        : `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    // A failed create still needs a physical id; one that is no UUID tells the delete to do nothing.
    physicalId = event.RequestType === 'Create' ? `failed-${event.RequestId}` : event.PhysicalResourceId;
  }
  const body = JSON.stringify({
    Status: status,
    Reason: reason || 'see the provider function’s log',
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: status === 'SUCCESS' ? { HookId: physicalId } : {},
  });
  // The pre-signed URL takes a PUT with no content type (the signature covers an empty one).
  const res = await deps.fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  if (!res.ok) throw new Error(`answering CloudFormation: ${res.status}`);
}

/** The Lambda entry point: credentials and region from Lambda's environment. */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const env = process.env;
  await respond(event, {
    fetch,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials: async () => ({
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    }),
  });
}
