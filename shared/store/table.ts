import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table, defined once: the local runtime and the tests create it from `tableDefinition`,
 * the CDK stack builds the same keys from `TABLE_SCHEMA`.
 *
 * Items (every partition key starts with the tenant, but the operator's, which start with `OP#`):
 * | item            | pk                          | sk                 | gsi1pk                         | gsi1sk |
 * |-----------------|-----------------------------|--------------------|--------------------------------|--------|
 * | hook            | `T#<tenant>#HOOK`           | `<hook id>`        | `T#<tenant>#SRC#<source>`      | `<id>` |
 * | hooks version   | `T#<tenant>#META`           | `HOOKS_VERSION`    |                                |        |
 * | hook usage      | `T#<tenant>#META`           | `HOOK_USAGE`       |                                |        |
 * | user source     | `T#<tenant>#SOURCE`         | `<source>#<event>` |                                |        |
 * | gate window     | `T#<tenant>#GATE#<gate key>`| `GATE`             |                                |        |
 * | threshold window| `T#<tenant>#GATE#<count key>`| `THRESHOLD#<count>/<window>` |                      |        |
 * | dead letter     | `T#<tenant>#DEAD`           | `<ms>#<delivery id>`|                               |        |
 * | idempotency     | `T#<tenant>#IDEM#<scope>`   | `IDEM`             |                                |        |
 * | tenant          | `OP#TENANT`                 | `<tenant id>`      |                                |        |
 * | API key         | `OP#KEY#<key id>`           | `KEY`              | `T#<tenant>#KEYS`              | `<key id>` |
 * | event record    | `T#<tenant>#EVT#<event id>` | `EVENT`            |                                |        |
 * | audit entry     | `T#<tenant>#AUDIT`          | `<ms>-<random>`    |                                |        |
 * | quota overrides | `T#<tenant>#META`           | `QUOTAS`           |                                |        |
 * | events/s window | `T#<tenant>#RATE#<epoch s>` | `RATE`             |                                |        |
 * | usage of a day  | `T#<tenant>#USAGE`          | `<YYYY-MM-DD>`     |                                |        |
 *
 * An API key is read by its id alone (the visible part of the key, so one GetItem resolves a
 * request) and listed per tenant through the index.
 *
 * Gate and threshold items, dead letters, idempotency records, event records, audit entries, events/s windows and usage days carry `expires_at` (epoch seconds), the table's
 * TTL attribute. TTL deletes late on AWS and not at all in the embedded store (its sweeper does),
 * so reads that depend on expiry compare it with now too.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  bySourceIndex: { name: 'bySource', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  ttlAttribute: 'expires_at',
} as const;

export const DEFAULT_TABLE_NAME = 'event-hooks';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, bySourceIndex } = TABLE_SCHEMA;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
      { AttributeName: bySourceIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: bySourceIndex.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: bySourceIndex.name,
        KeySchema: [
          { AttributeName: bySourceIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: bySourceIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export const keys = {
  hook: (tenant: string, id: string) => ({ pk: `T#${tenant}#HOOK`, sk: id }),
  hooksPartition: (tenant: string) => `T#${tenant}#HOOK`,
  hookBySource: (tenant: string, source: string, id: string) => ({ gsi1pk: `T#${tenant}#SRC#${source}`, gsi1sk: id }),
  sourcePartition: (tenant: string, source: string) => `T#${tenant}#SRC#${source}`,
  hooksVersion: (tenant: string) => ({ pk: `T#${tenant}#META`, sk: 'HOOKS_VERSION' }),
  /** The tenant's stored hooks and user functions, counted for its quotas (hookStore.ts, `UsageGuard`). */
  hookUsage: (tenant: string) => ({ pk: `T#${tenant}#META`, sk: 'HOOK_USAGE' }),
  userEvent: (tenant: string, source: string, event: string) => ({
    pk: `T#${tenant}#SOURCE`,
    sk: `${source}#${event}`,
  }),
  userEventsPartition: (tenant: string) => `T#${tenant}#SOURCE`,
  gate: (tenant: string, gateKey: string) => ({ pk: `T#${tenant}#GATE#${gateKey}`, sk: 'GATE' }),
  /** `rule` is the threshold as `<count>/<window>`: a changed threshold counts afresh. */
  threshold: (tenant: string, countKey: string, rule: string) => ({
    pk: `T#${tenant}#GATE#${countKey}`,
    sk: `THRESHOLD#${rule}`,
  }),
  deadLetter: (tenant: string, id: string) => ({ pk: `T#${tenant}#DEAD`, sk: id }),
  deadLettersPartition: (tenant: string) => `T#${tenant}#DEAD`,
  /** `scope` names what is made idempotent: `REQ#<Idempotency-Key>` or `EVT#<source>#<event id>`. */
  idempotency: (tenant: string, scope: string) => ({ pk: `T#${tenant}#IDEM#${scope}`, sk: 'IDEM' }),
  /** The prefix of every partition key a tenant owns (deleting a tenant removes them all). */
  tenantPrefix: (tenant: string) => `T#${tenant}#`,
  tenant: (id: string) => ({ pk: 'OP#TENANT', sk: id }),
  tenantsPartition: 'OP#TENANT',
  apiKey: (id: string) => ({ pk: `OP#KEY#${id}`, sk: 'KEY' }),
  apiKeyByTenant: (tenant: string, id: string) => ({ gsi1pk: `T#${tenant}#KEYS`, gsi1sk: id }),
  apiKeysOfTenant: (tenant: string) => `T#${tenant}#KEYS`,
  /** An event and its outcomes per hook (`GET /events/{id}`): a partition of its own, so writes spread. */
  eventRecord: (tenant: string, eventId: string) => ({ pk: `T#${tenant}#EVT#${eventId}`, sk: 'EVENT' }),
  /** `id` is the time of the change (ms, 13 digits) and a random part: the partition sorts by time. */
  audit: (tenant: string, id: string) => ({ pk: `T#${tenant}#AUDIT`, sk: id }),
  auditPartition: (tenant: string) => `T#${tenant}#AUDIT`,
  quotas: (tenant: string) => ({ pk: `T#${tenant}#META`, sk: 'QUOTAS' }),
  /** One item per tenant and second: each second a new partition, so no key stays hot. */
  rateWindow: (tenant: string, second: number) => ({ pk: `T#${tenant}#RATE#${second}`, sk: 'RATE' }),
  usageDay: (tenant: string, day: string) => ({ pk: `T#${tenant}#USAGE`, sk: day }),
  usagePartition: (tenant: string) => `T#${tenant}#USAGE`,
};
