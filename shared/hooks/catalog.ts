/** The built-in sources and events (docs/reference.md §4), and the shape of a catalog entry. */
import { emptyRecord, getOwn, setOwn } from '../records.ts';

export interface EventDefinition {
  fields: string[];
  unique?: string[];
  description?: string;
}

/**
 * source → event → definition. Source and event names are user-chosen, so a catalog built from
 * them is made of prototype-less records (`emptyRecord`) and read with own-property lookups only.
 */
export type SourceCatalog = Record<string, Record<string, EventDefinition>>;

const CRUD_FIELDS = ['operation', 'entity', 'old_entity', 'schema'];
const RATE_LIMIT: EventDefinition = {
  description: 'Run an event when a rate limit has been exceeded',
  fields: ['consumer', 'ip', 'service', 'rate', 'limit', 'window'],
  unique: ['consumer', 'ip', 'service'],
};

/** Entities Kong Gateway emits changes for on `crud`, plus this service's own `event_hooks`. */
export const CRUD_ENTITIES = [
  'acls',
  'admins',
  'applications',
  'basicauth_credentials',
  'ca_certificates',
  'certificates',
  'consumer_groups',
  'consumers',
  'developers',
  'event_hooks',
  'files',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
  'keys',
  'key_sets',
  'licenses',
  'oauth2_credentials',
  'plugins',
  'rbac_roles',
  'rbac_users',
  'routes',
  'services',
  'snis',
  'targets',
  'upstreams',
  'vaults',
  'workspaces',
] as const;

export const CRUD_OPERATIONS = ['create', 'update', 'delete'] as const;
export type CrudOperation = (typeof CRUD_OPERATIONS)[number];

function buildCatalog(): SourceCatalog {
  const crud: Record<string, EventDefinition> = {};
  for (const entity of CRUD_ENTITIES) {
    crud[entity] = { fields: CRUD_FIELDS };
    for (const op of CRUD_OPERATIONS) crud[`${entity}:${op}`] = { fields: CRUD_FIELDS };
  }
  const daoCrud: Record<string, EventDefinition> = {};
  for (const op of CRUD_OPERATIONS) daoCrud[op] = { fields: CRUD_FIELDS };
  return {
    balancer: { health: { fields: ['upstream_id', 'ip', 'port', 'hostname', 'health'] } },
    crud,
    'dao:crud': daoCrud,
    'rate-limiting-advanced': { 'rate-limit-exceeded': RATE_LIMIT },
    'ai-rate-limiting-advanced': { 'rate-limit-exceeded': RATE_LIMIT },
    'service-protection': {
      'rate-limit-exceeded': {
        description: 'Run an event when a rate limit has been exceeded',
        fields: ['service', 'rate', 'limit', 'window'],
        unique: ['service'],
      },
    },
    // Beyond Kong: produced by the http-log adapter (`POST /ingest/kong-http-log`), see docs/kong-integration.md.
    proxy: {
      'upstream-error': {
        description: 'Run an event when an upstream answered a proxied request with a 5xx',
        fields: [
          'service',
          'route',
          'upstream_status',
          'status',
          'consumer',
          'ip',
          'method',
          'uri',
          'upstream_uri',
          'target',
          'latency',
          'started_at',
        ],
        unique: ['service', 'route', 'upstream_status'],
      },
    },
    // Beyond Kong: emitted by this service when it auto-disables a failing hook (docs/operations.md).
    event_hooks: {
      disabled: {
        description: 'Run an event when a hook was disabled after consecutive failed deliveries',
        fields: ['hook', 'consecutive_failures', 'first_failure_at', 'last_failure_at'],
      },
    },
    'oas-validation': {
      'validation-failed': {
        description: 'Run an event when OpenAPI specification validation fails',
        fields: ['consumer', 'ip', 'service', 'err'],
        unique: ['consumer', 'ip', 'service'],
      },
    },
  };
}

export const BUILTIN_CATALOG: Readonly<SourceCatalog> = Object.freeze(buildCatalog());

export function isBuiltinSource(source: string): boolean {
  return Object.hasOwn(BUILTIN_CATALOG, source);
}

/** Merge user-defined sources over the built-in catalog (built-ins always win). */
export function mergeCatalog(userDefined: SourceCatalog): SourceCatalog {
  const merged = emptyRecord<Record<string, EventDefinition>>();
  for (const [source, events] of Object.entries(userDefined)) {
    for (const [event, definition] of Object.entries(events)) addEvent(merged, source, event, definition);
  }
  for (const [source, events] of Object.entries(BUILTIN_CATALOG)) setOwn(merged, source, events);
  return merged;
}

/** Adds one user-defined event to a catalog under construction, whatever its names. */
export function addEvent(catalog: SourceCatalog, source: string, event: string, definition: EventDefinition): void {
  let events = getOwn(catalog, source);
  if (events === undefined) {
    events = emptyRecord<EventDefinition>();
    setOwn(catalog, source, events);
  }
  setOwn(events, event, definition);
}

/** The events of a source; `undefined` when the source is not registered. */
export function findSource(catalog: SourceCatalog, source: string): Record<string, EventDefinition> | undefined {
  return getOwn(catalog, source);
}

/** Looks up an event definition; `undefined` when the source or event is not registered. */
export function findEvent(catalog: SourceCatalog, source: string, event: string): EventDefinition | undefined {
  const events = getOwn(catalog, source);
  return events && getOwn(events, event);
}
