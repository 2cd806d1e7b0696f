import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aws, CustomResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { EventPattern, HandlerName, Threshold } from '../../shared/hooks/hook.ts';
import { isSecretName } from '../../shared/logger.ts';
import { bundleFunctionsSync } from '../bundle.ts';
import type { ProviderAuth, ProviderProperties, SecretReference } from './eventHookProvider.ts';

/**
 * `EventHook`: one hook, declared in a user's own CDK app against a deployed event-hooks service
 * (docs/rules.md#cdk-the-eventhook-construct). A custom resource whose provider function (one per
 * stack, infra/cdk/eventHookProvider.ts) creates, updates and deletes the hook through the service's
 * Admin API as the stack changes. Secrets (the hook's, the API key) are Secrets Manager references
 * read by the provider at deploy time: the template holds ARNs, never values.
 */

/** A secret's value, or one field of its JSON value. */
export interface EventHookSecret {
  secret: secretsmanager.ISecret;
  /** A key of the secret's JSON value (e.g. `secret` of `{"secret": "…"}`); default the whole value. */
  field?: string;
}

/** How the provider authenticates to the service's Admin API. */
export class EventHookAuth {
  /**
   * SigV4 with the provider's role (the service's default, `adminIamAuth`). The role may invoke only
   * `POST /event-hooks`, `PUT` and `DELETE /event-hooks/*` of that API and stage: taken from a
   * literal `https://<api>.execute-api.<region>.amazonaws.com[/<stage>]` URL, or given as
   * `executeApiArn` (`arn:aws:execute-api:<region>:<account>:<api>/<stage>`) when the URL is a token
   * or a custom domain.
   */
  static iam(options: { executeApiArn?: string } = {}): EventHookAuth {
    return new EventHookAuth({ type: 'iam', ...options });
  }

  /** A bearer key (`Authorization: Bearer`), kept in Secrets Manager. */
  static apiKey(secret: secretsmanager.ISecret, field?: string): EventHookAuth {
    return new EventHookAuth({ type: 'api-key', secret: { secret, ...(field !== undefined ? { field } : {}) } });
  }

  private constructor(
    readonly spec: { type: 'iam'; executeApiArn?: string } | { type: 'api-key'; secret: EventHookSecret },
  ) {}
}

/** The hook, in the Admin API's shape, without its secrets. */
export interface EventHookDefinition {
  source: string;
  event?: string | null;
  handler: HandlerName;
  config?: Record<string, unknown>;
  on_change?: boolean | null;
  snooze?: number | null;
  filter?: EventPattern | null;
  threshold?: Threshold | null;
  /** Beyond Kong; default true. Sent only when given. */
  enabled?: boolean;
}

export interface EventHookProps {
  /** The service's API URL (the `ApiUrl` output of its stack), e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`. */
  serviceUrl: string;
  auth: EventHookAuth;
  hook: EventHookDefinition;
  /** `config.secret` of a webhook: only as a Secrets Manager reference. */
  secret?: EventHookSecret;
  /** Header values from Secrets Manager (e.g. `Authorization` of a receiver), by header name. */
  headerSecrets?: Record<string, EventHookSecret>;
  /** A fixed hook id (UUID); default one the service generates. */
  hookId?: string;
}

/** Props of the stack's one provider function; for tests and prebuilt bundles. */
export interface EventHookProviderProps {
  /** The provider's code; default `infra/cdk/eventHookProvider.ts` bundled with esbuild now. */
  code?: lambda.Code;
  logRetention?: logs.RetentionDays;
}

const PROVIDER_ID = 'EventHookProvider';

/** The provider function of a stack: made by the first `EventHook`, shared by every other. */
export class EventHookProvider extends Construct {
  /** The function's role: its own log group, plus what each hook grants it. */
  readonly role: iam.Role;
  readonly function: lambda.Function;

  /** The stack's provider, made now with `props` if it does not exist yet. */
  static of(scope: Construct, props: EventHookProviderProps = {}): EventHookProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    return existing instanceof EventHookProvider ? existing : new EventHookProvider(stack, PROVIDER_ID, props);
  }

  private constructor(scope: Construct, id: string, props: EventHookProviderProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role: the default one's managed policy may write to any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'event-hooks EventHook provider: execution role',
    });
    logGroup.grantWrite(this.role);
    const bundled = props.code ? { code: props.code, folder: undefined } : bundledProvider();
    this.function = new lambda.Function(this, 'Function', {
      description: 'event-hooks EventHook custom resource: declares hooks through the Admin API',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: props.code ?? bundled.code,
      memorySize: 256,
      // Each request is bounded by 20 s; a create reads at most a few secrets first.
      timeout: Duration.minutes(2),
      role: this.role,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
    });
    // The asset was copied into the cloud assembly as the function was made (unless staging is off, as under SAM).
    if (bundled.folder && !this.node.tryGetContext('aws:cdk:disable-asset-staging')) {
      rmSync(bundled.folder, { recursive: true, force: true });
    }
  }
}

/** The provider bundled with the service's esbuild settings into a temporary folder. */
function bundledProvider(): { code: lambda.Code; folder: string } {
  const outDir = mkdtempSync(join(tmpdir(), 'event-hook-provider-'));
  bundleFunctionsSync({ entries: { provider: 'infra/cdk/eventHookProvider.ts' }, outDir, minify: true });
  if (!existsSync(join(outDir, 'provider', 'index.mjs')))
    throw new Error(`bundling the EventHook provider failed: ${outDir}`);
  return { code: lambda.Code.fromAsset(join(outDir, 'provider')), folder: outDir };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `arn:…:execute-api:<region>:<account>:<api>/<stage>` of a literal API Gateway URL, and the same
 * ARN as cdk-nag prints it (pseudo parameters as `<AWS::…>`), to acknowledge its finding by id.
 */
function executeApiArn(serviceUrl: string): { arn: string; nag: string } {
  if (Token.isUnresolved(serviceUrl)) {
    throw new Error(
      'EventHook: serviceUrl is a token, so the API it names is unknown at synth: give EventHookAuth.iam({ executeApiArn })',
    );
  }
  const url = new URL(serviceUrl);
  const match = /^([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname);
  if (!match) {
    throw new Error(
      `EventHook: ${url.hostname} is not an API Gateway host: give EventHookAuth.iam({ executeApiArn }) for a custom domain`,
    );
  }
  // An HTTP API's `$default` stage has no path; another stage is the first path segment.
  const stage = url.pathname.split('/').filter(Boolean)[0] ?? '$default';
  const tail = `:execute-api:${match[2]}:`;
  const api = `:${match[1]}/${stage}`;
  return {
    arn: `arn:${Aws.PARTITION}${tail}${Aws.ACCOUNT_ID}${api}`,
    nag: `arn:<AWS::Partition>${tail}<AWS::AccountId>${api}`,
  };
}

/** Refuses secret values in the hook itself: they would be written into the template. */
function checkNoSecretValues(hook: EventHookDefinition, json: string): void {
  const secret = hook.config?.secret;
  if (secret !== undefined && secret !== null) {
    throw new Error('EventHook: give the hook secret as `secret: { secret: ISecret }`, never in hook.config');
  }
  // `secret.secretValue` is a dynamic reference, which CloudFormation does not resolve in custom resources.
  if (json.includes('{{resolve:secretsmanager:') || json.includes('{{resolve:ssm-secure:')) {
    throw new Error('EventHook: the hook holds a secret value reference; give secrets as `secret` or `headerSecrets`');
  }
  // Credential headers are secrets too (the service seals them at rest, the logs redact them).
  for (const [name, value] of Object.entries(hook.config?.headers ?? {})) {
    if (isSecretName(name) && value !== null && value !== undefined) {
      throw new Error(
        `EventHook: header ${name} is a credential; give it as \`headerSecrets: { '${name}': { secret: ISecret } }\`, never in hook.config`,
      );
    }
  }
}

export class EventHook extends Construct {
  /** The hook's id on the service. */
  readonly hookId: string;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: EventHookProps & { provider?: EventHookProviderProps }) {
    super(scope, id);
    if (props.hookId !== undefined && !Token.isUnresolved(props.hookId) && !UUID.test(props.hookId)) {
      throw new Error(`EventHook: hookId must be a UUID, not '${props.hookId}'`);
    }
    const stack = Stack.of(this);
    const hookJson = stack.toJsonString(props.hook);
    // Checked resolved: a secret value given as a token is a dynamic reference only once resolved.
    checkNoSecretValues(props.hook, JSON.stringify(stack.resolve(props.hook)));
    const provider = EventHookProvider.of(this, props.provider);

    const secrets: (SecretReference & { path: string })[] = [];
    const reference = (path: string, given: EventHookSecret) => {
      grantSecret(provider.role, given.secret);
      secrets.push({ path, arn: given.secret.secretArn, ...(given.field !== undefined ? { field: given.field } : {}) });
    };
    if (props.secret) reference('config.secret', props.secret);
    for (const [name, given] of Object.entries(props.headerSecrets ?? {})) reference(`config.headers.${name}`, given);

    let auth: ProviderAuth;
    if (props.auth.spec.type === 'api-key') {
      const key = props.auth.spec.secret;
      grantSecret(provider.role, key.secret);
      auth = { type: 'api-key', secret: { arn: key.secret.secretArn, ...(key.field ? { field: key.field } : {}) } };
    } else {
      const given = props.auth.spec.executeApiArn;
      const { arn, nag } = given !== undefined ? { arn: given, nag: given } : executeApiArn(props.serviceUrl);
      // Only the three requests the provider makes; hook ids are made at deploy time, hence the `*`.
      const resources = [`${arn}/POST/event-hooks`, `${arn}/PUT/event-hooks/*`, `${arn}/DELETE/event-hooks/*`];
      provider.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources }));
      for (const method of ['PUT', 'DELETE']) {
        Validations.of(provider.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nag}/${method}/event-hooks/*]`,
          reason: 'The hook id is made when the hook is created; only PUT and DELETE of /event-hooks/{id} are allowed.',
        });
      }
      auth = { type: 'iam', region: stack.region };
    }

    const properties: ProviderProperties = {
      ServiceUrl: props.serviceUrl,
      Auth: stack.toJsonString(auth),
      Hook: hookJson,
      ...(secrets.length > 0 ? { Secrets: stack.toJsonString(secrets) } : {}),
      ...(props.hookId !== undefined ? { HookId: props.hookId } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.function.functionArn,
      resourceType: 'Custom::EventHook',
      properties: { ...properties },
    });
    this.hookId = this.resource.getAttString('HookId');
  }
}

/** `GetSecretValue` on this one secret (and decrypting with its key, if it has its own). */
function grantSecret(role: iam.IRole, secret: secretsmanager.ISecret): void {
  // A secret imported by name has a partial ARN: Secrets Manager appends six random characters.
  const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
  secret.encryptionKey?.grantDecrypt(role);
}
