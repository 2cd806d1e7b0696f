import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { TABLE_SCHEMA } from '../../shared/store/table.ts';
import type { FunctionName } from '../bundle.ts';

/** Table actions per function: exactly the calls its code makes. */
export const TABLE_ACTIONS: Partial<Record<FunctionName, string[]>> = {
  // hooks, user sources and dead letters: read, list, create, update, delete; event records: read
  admin: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  // the catalog (user sources) and its version, to check events before accepting them
  ingest: ['dynamodb:GetItem', 'dynamodb:Query'],
  // hooks by source (the GSI), the hooks version, conditional writes of gate items, threshold counts, event records
  dispatcher: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // the hook of a job by id (and the hooks version and catalog the cache checks); dead letters; the
  // delivery log; auto-disable (a conditional hook write and the hooks version bump)
  delivery: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  // a presented key's item, found by its prefix (api-keys mode only)
  authorizer: ['dynamodb:GetItem', 'dynamodb:Query'],
  // deployer and sweeper: granted with the rest of their permissions by UserFunctionDeployment
};

/** Ingest's writes, allowed only on idempotency items (partition keys `T#<tenant>#IDEM#…`). */
export const INGEST_IDEMPOTENCY_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** Usage counters (docs/saas.md § Metering): added to with `UpdateItem … ADD`, by whoever counted. */
export const USAGE_KEYS = 'T#*#USAGE';
/** A tenant's events per second window (docs/saas.md § Quotas): the ingest function's alone. */
export const RATE_KEYS = 'T#*#RATE#*';

/** The resources the grants name; the construct passes itself (kept structural, so this module does not import it back). */
export interface GrantTargets {
  table: dynamodb.ITable;
  bus: events.IEventBus;
  deliveryQueue: sqs.IQueue;
  secretsKey: kms.IKey;
}

/**
 * The hook secrets key, used only with the encryption context the service sets (tenant and hook):
 * `kms:EncryptionContextKeys` must be present and name nothing else.
 */
export const SECRETS_KEY_CONDITIONS = {
  'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'hook'] },
  Null: { 'kms:EncryptionContextKeys': 'false' },
};

export interface GrantProps {
  /** Every service function's role; the authorizer's only when it is deployed. */
  roles: Record<Exclude<FunctionName, 'authorizer'>, iam.IRole> & { authorizer?: iam.IRole };
  /** ARN pattern matching the deployment's user-code functions and nothing else. */
  userFunctionArnPattern: string;
  invokableFunctionArns: string[];
}

/**
 * Each function's role gets what its code uses, on the one resource it uses it on: no `*` resource
 * anywhere, no action a function does not call.
 */
export function grantLeastPrivilege(hooks: GrantTargets, props: GrantProps): void {
  const { roles } = props;
  const tableResources = [hooks.table.tableArn, `${hooks.table.tableArn}/index/${TABLE_SCHEMA.bySourceIndex.name}`];
  const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) => {
    if (resources.length === 0) return;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
  };

  for (const [name, actions] of Object.entries(TABLE_ACTIONS) as [FunctionName, string[]][]) {
    const role = roles[name];
    if (!role) continue;
    // Only the admin function and the dispatcher query hooks by source; the others need no index.
    allow(role, actions, name === 'admin' || name === 'dispatcher' ? tableResources : [hooks.table.tableArn]);
  }

  allow(roles.ingest, ['events:PutEvents'], [hooks.bus.eventBusArn]);
  // Idempotency records (`Idempotency-Key`, event ids): claimed, completed, released; those items only.
  allow(roles.ingest, INGEST_IDEMPOTENCY_ACTIONS, [hooks.table.tableArn], {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#IDEM#*'] },
  });
  // Events per second windows and the usage of accepted events; those items only.
  allow(roles.ingest, ['dynamodb:UpdateItem'], [hooks.table.tableArn], {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [RATE_KEYS, USAGE_KEYS] },
  });
  // The usage of deliveries and function calls; those items only.
  allow(roles.delivery, ['dynamodb:UpdateItem'], [hooks.table.tableArn], {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [USAGE_KEYS] },
  });
  // The admin function emits the `event-hooks` source's own events (hook created, updated, deleted).
  allow(roles.admin, ['events:PutEvents'], [hooks.bus.eventBusArn]);
  // The delivery function emits `event_hooks/disabled` when it auto-disables a failing hook.
  allow(roles.delivery, ['events:PutEvents'], [hooks.bus.eventBusArn]);

  allow(roles.dispatcher, ['sqs:SendMessage'], [hooks.deliveryQueue.queueArn]);
  // Retries go back on the delivery queue (final failures are stored in the table as dead letters;
  // the dead-letter queue only receives what SQS itself redrives after maxReceiveCount).
  allow(roles.delivery, ['sqs:SendMessage'], [hooks.deliveryQueue.queueArn]);
  // Replaying a dead letter puts its job back on the delivery queue.
  allow(roles.admin, ['sqs:SendMessage'], [hooks.deliveryQueue.queueArn]);

  // Hook secrets: sealed where hooks are written (admin), opened where they are answered, tested and
  // pinged (admin) and delivered (delivery). No other function can read them.
  const key = [hooks.secretsKey.keyArn];
  allow(roles.admin, ['kms:GenerateDataKey', 'kms:Decrypt'], key, SECRETS_KEY_CONDITIONS);
  allow(roles.delivery, ['kms:Decrypt'], key, SECRETS_KEY_CONDITIONS);

  // Creating, updating and deleting user-code functions (and passing their role) is the deploy
  // worker's and the sweeper's alone: see UserFunctionDeployment.connect.
  // The Admin API's test call runs a hook's pipeline, as the delivery function does.
  for (const role of [roles.admin, roles.delivery]) {
    allow(role, ['lambda:InvokeFunction'], [props.userFunctionArnPattern, ...props.invokableFunctionArns]);
  }
}
