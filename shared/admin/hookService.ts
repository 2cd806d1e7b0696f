import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, type FieldErrors, NotFoundError, SchemaViolationError } from '../errors.ts';
import {
  type EventDefinition,
  findEvent,
  findSource,
  isBuiltinSource,
  mergeCatalog,
  type SourceCatalog,
} from '../hooks/catalog.ts';
import type { EventHook } from '../hooks/hook.ts';
import { type EventDefinitionFromSchema, EventDefinitionSchema, withDefaults } from '../hooks/schemas.ts';
import { isUuid, mergePatch, validateHook } from '../hooks/validate.ts';
import type { Clock } from '../ports/clock.ts';
import { emptyRecord, isReservedName, reservedNameMessage, setOwn } from '../records.ts';
import { compile, failedAt, kongErrors } from '../schema/kongErrors.ts';
import type { HookSecrets } from '../secrets/hookSecrets.ts';
import type { HookPage, HookStore, StoredHook, UsageGuard } from '../store/hookStore.ts';
import type { SourceStore } from '../store/sourceStore.ts';
import {
  carryPreviousSecret,
  type RotationAnswer,
  rotateSecret,
  withLiveSecrets,
  withoutPreviousSecret,
} from './secretRotation.ts';

export type HookOperation = 'create' | 'update' | 'delete';

/** What happened to a hook, for the side effects that follow a successful write. */
export interface HookChange {
  tenant: string;
  operation: HookOperation;
  hook: EventHook;
  old?: EventHook;
}

export interface HookServiceDeps {
  hooks: HookStore;
  sources: SourceStore;
  clock: Clock;
  /**
   * Opens the secrets the store keeps sealed: the Admin API answers hooks as Kong does, secrets
   * included, and merges and validates a patch against the plaintext.
   */
  secrets?: HookSecrets;
  userCodeSyntaxError?: (code: string) => string | undefined;
  /** The prefix of the user-code functions this deployment creates; hooks may not name those. */
  reservedFunctionPrefix?: string;
  /** Why the outbound sender would refuse a webhook URL (see `ConfigOptions.destinationRefusal`). */
  destinationRefusal?: (url: string) => string | undefined;
  /**
   * The checks of a create or update that only running can make (locally, that user code loads to a
   * function). `beforeWrite` runs them on a write; a dry run runs only these, storing nothing.
   */
  verifyWrite?: (change: HookChange) => Promise<void>;
  /**
   * Runs before a hook is stored (sets the `deployment` state of a hook with user code, on the hook
   * it is given, which is what is stored and answered) and may reject to refuse the write.
   */
  beforeWrite?: (change: HookChange) => Promise<void>;
  /** Runs after a successful write: emit the `event_hooks` change, ping webhooks, clean up user code. */
  afterWrite?: (change: HookChange) => Promise<void>;
  /**
   * Runs when a create or update did not happen after `beforeWrite` began (`beforeWrite` or the store
   * rejected, e.g. a `ConflictError` from a concurrent write), to undo what `beforeWrite` prepared.
   * The original error is rethrown afterwards; a rejection of this callback is ignored.
   */
  onWriteFailed?: (change: HookChange) => Promise<void>;
  /**
   * The tenant's quotas as the store enforces them on each hook write (`UsageGuard`): exact across
   * processes, unlike a check before the write. Without it, writes are not counted.
   */
  usageGuard?: (tenant: string) => Promise<UsageGuard>;
  /** Runs after a user-defined source or event was written or removed. */
  afterCatalogWrite?: (tenant: string) => void;
  newId?: () => string;
}

/**
 * `deployment` is the service's own read-only field (where user functions stand): a client that sends
 * back a hook it read may include it, and it is ignored.
 */
function withoutDeployment(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, 'deployment')) return value;
  const { deployment: _ignored, ...rest } = value as Record<string, unknown>;
  return rest;
}

/** A hook body with the service's own read-only fields removed (they are ignored, not refused). */
function clientFields(value: unknown): unknown {
  return withoutPreviousSecret(withoutDeployment(value));
}

/**
 * Hooks stored before `filter`, `threshold` and `enabled` existed are answered with `null`, `null`
 * and `true`, as every hook shape has them.
 */
function withRuleFields(hook: EventHook): EventHook {
  return hook.filter !== undefined && hook.threshold !== undefined && hook.enabled !== undefined
    ? hook
    : { ...hook, filter: hook.filter ?? null, threshold: hook.threshold ?? null, enabled: hook.enabled ?? true };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/** Why a user-defined source or event name is refused, or `undefined`. */
function nameError(name: string): string | undefined {
  if (!NAME.test(name)) return 'must be 1-100 letters, digits, or . _ : - and start with a letter or digit';
  // The name becomes a key of the catalog every event is checked against.
  if (isReservedName(name)) return reservedNameMessage(name);
  return undefined;
}

/**
 * The Admin API's behaviour, free of HTTP: validation against the tenant's catalog, conditional
 * writes, and the hooks on either side of a write.
 */
export class HookService {
  private readonly deps: HookServiceDeps;
  private readonly newId: () => string;

  constructor(deps: HookServiceDeps) {
    this.deps = deps;
    this.newId = deps.newId ?? randomUUID;
  }

  async catalog(tenant: string): Promise<SourceCatalog> {
    return mergeCatalog(await this.deps.sources.list(tenant));
  }

  async list(tenant: string, options: { size: number; offset?: string }): Promise<HookPage> {
    const page = await this.deps.hooks.list(tenant, options);
    const now = this.nowSeconds();
    const hooks = await Promise.all(page.hooks.map((hook) => this.open(tenant, hook)));
    return { ...page, hooks: hooks.map((hook) => withRuleFields(withLiveSecrets(hook, now))) };
  }

  async get(tenant: string, id: string): Promise<EventHook> {
    const stored = await this.stored(tenant, id);
    if (!stored) throw new NotFoundError();
    return withRuleFields(withLiveSecrets(stored.hook, this.nowSeconds()));
  }

  /** `POST /event-hooks/{id}/secret/rotate`: a new current secret (see secretRotation.ts). */
  async rotateSecret(tenant: string, id: string, body: unknown): Promise<RotationAnswer> {
    const stored = await this.stored(tenant, id);
    if (!stored) throw new NotFoundError();
    const { hook, answer } = rotateSecret(stored.hook, body, this.nowSeconds());
    await this.write({ tenant, operation: 'update', hook, old: stored.hook }, async () =>
      this.deps.hooks.replace(tenant, hook, stored.rev, await this.counted(tenant, stored.hook)),
    );
    return answer;
  }

  async create(tenant: string, body: unknown): Promise<EventHook> {
    const { fields, id, created_at } = validateHook(clientFields(body), await this.validateOptions(tenant));
    const hook = { ...fields, id: id ?? this.newId(), created_at: created_at ?? this.nowSeconds() } as EventHook;
    await this.write({ tenant, operation: 'create', hook }, async () =>
      this.deps.hooks.create(tenant, hook, await this.deps.usageGuard?.(tenant)),
    );
    return hook;
  }

  async patch(tenant: string, id: string, body: unknown): Promise<EventHook> {
    const stored = await this.stored(tenant, id);
    if (!stored) throw new NotFoundError();
    const merged = mergePatch(clientFields(stored.hook) as EventHook, clientFields(body));
    const { fields, id: givenId, created_at } = validateHook(merged, await this.validateOptions(tenant));
    if (givenId !== undefined && givenId !== id) throw new SchemaViolationError({ id: 'cannot be changed' });
    const hook = { ...fields, id, created_at: created_at ?? stored.hook.created_at } as EventHook;
    carryPreviousSecret(hook, stored.hook, this.nowSeconds());
    await this.write({ tenant, operation: 'update', hook, old: stored.hook }, async () =>
      this.deps.hooks.replace(tenant, hook, stored.rev, await this.counted(tenant, stored.hook)),
    );
    return hook;
  }

  /**
   * Creates or replaces the hook with this id. With `dryRun` every check of the write runs (the
   * tenant's catalog, user code, the destination policy, `verifyWrite`) and the hook that would be
   * stored is answered, but nothing is stored, deployed, pinged or emitted: `event-hooks apply`
   * validates a whole file this way before it writes anything, and diffs what would be stored
   * against what is.
   */
  async put(tenant: string, id: string, body: unknown, options: { dryRun?: boolean } = {}): Promise<EventHook> {
    const stored = await this.stored(tenant, id);
    const input =
      body && typeof body === 'object' && !Array.isArray(body) ? { ...(clientFields(body) as object), id } : body;
    const { fields, id: givenId, created_at } = validateHook(input, await this.validateOptions(tenant));
    if (givenId !== undefined && givenId !== id)
      throw new SchemaViolationError({ id: 'must match the id in the path' });
    const hook = {
      ...fields,
      id,
      created_at: created_at ?? stored?.hook.created_at ?? this.nowSeconds(),
    } as EventHook;
    carryPreviousSecret(hook, stored?.hook, this.nowSeconds());
    const operation = stored ? 'update' : 'create';
    if (options.dryRun) {
      await this.deps.verifyWrite?.({ tenant, operation, hook, ...(stored ? { old: stored.hook } : {}) });
      // The quotas the write would be refused by, reserving nothing: so `apply --dry-run` refuses
      // what `apply` would, before anything is written.
      const guard = await this.deps.usageGuard?.(tenant);
      if (guard) {
        const functions = guard.functionsOf(hook) - (stored ? guard.functionsOf(stored.hook) : 0);
        await this.deps.hooks.checkRoom(tenant, guard, { hooks: stored ? 0 : 1, functions: Math.max(functions, 0) });
      }
      return withRuleFields(hook);
    }
    await this.write({ tenant, operation, hook, ...(stored ? { old: stored.hook } : {}) }, async () =>
      stored
        ? this.deps.hooks.replace(tenant, hook, stored.rev, await this.counted(tenant, stored.hook))
        : this.deps.hooks.create(tenant, hook, await this.deps.usageGuard?.(tenant)),
    );
    return hook;
  }

  async delete(tenant: string, id: string): Promise<void> {
    if (!isUuid(id)) return;
    // Kept sealed: a delete needs none of its secrets (its change event redacts them anyway).
    const old = await this.deps.hooks.delete(tenant, id, await this.deps.usageGuard?.(tenant));
    if (old) await this.deps.afterWrite?.({ tenant, operation: 'delete', hook: old, old });
  }

  async source(tenant: string, source: string): Promise<Record<string, EventDefinition>> {
    const events = findSource(await this.catalog(tenant), source);
    if (!events) throw new NotFoundError();
    return events;
  }

  async event(tenant: string, source: string, event: string): Promise<EventDefinition> {
    const definition = findEvent(await this.catalog(tenant), source, event);
    if (!definition) throw new NotFoundError();
    return definition;
  }

  /** Registers (or replaces) a user-defined event. The built-in catalog cannot be changed. */
  async putEvent(tenant: string, source: string, event: string, body: unknown): Promise<EventDefinition> {
    if (isBuiltinSource(source)) throw new BadRequestError(`source '${source}' is built in and cannot be changed`);
    // EventBridge refuses PutEvents whose Source starts with `aws.`: such events could never be sent.
    if (/^aws\./i.test(source)) {
      throw new BadRequestError(`source '${source}' is reserved: names starting with 'aws.' belong to AWS services`);
    }
    const definition = parseEventDefinition(source, event, body);
    await this.deps.sources.put(tenant, source, event, definition);
    this.deps.afterCatalogWrite?.(tenant);
    return definition;
  }

  /** Removes a user-defined event; `409` while a hook depends on it. */
  async deleteEvent(tenant: string, source: string, event: string): Promise<void> {
    if (isBuiltinSource(source)) throw new BadRequestError(`source '${source}' is built in and cannot be changed`);
    const userEvents = findSource(await this.deps.sources.list(tenant), source) ?? emptyRecord();
    if (!Object.hasOwn(userEvents, event)) return;
    const lastEvent = Object.keys(userEvents).length === 1;
    const users = (await this.deps.hooks.listBySource(tenant, source)).filter(
      (hook) => hook.event === event || (lastEvent && hook.event === null),
    );
    if (users.length > 0) {
      const ids = users.slice(0, 5).map((hook) => hook.id);
      throw new ConflictError(`event '${event}' of source '${source}' is used by event hooks: ${ids.join(', ')}`);
    }
    await this.deps.sources.delete(tenant, source, event);
    this.deps.afterCatalogWrite?.(tenant);
  }

  /** Every stored hook has a UUID (it is checked on every write), so no other id is looked up. */
  private async stored(tenant: string, id: string): Promise<StoredHook | undefined> {
    const stored = isUuid(id) ? await this.deps.hooks.get(tenant, id) : undefined;
    return stored && { hook: await this.open(tenant, stored.hook), rev: stored.rev };
  }

  /** What a replace of `old` is counted with, when writes are counted. */
  private async counted(tenant: string, old: EventHook): Promise<{ guard: UsageGuard; old: EventHook } | undefined> {
    const guard = await this.deps.usageGuard?.(tenant);
    return guard && { guard, old };
  }

  private open(tenant: string, hook: EventHook): Promise<EventHook> {
    return this.deps.secrets ? this.deps.secrets.open(tenant, hook) : Promise.resolve(hook);
  }

  private async validateOptions(tenant: string) {
    return {
      catalog: await this.catalog(tenant),
      ...(this.deps.userCodeSyntaxError ? { userCodeSyntaxError: this.deps.userCodeSyntaxError } : {}),
      ...(this.deps.reservedFunctionPrefix ? { reservedFunctionPrefix: this.deps.reservedFunctionPrefix } : {}),
      ...(this.deps.destinationRefusal ? { destinationRefusal: this.deps.destinationRefusal } : {}),
    };
  }

  /** The tail of each tenant's writes under way in this process (see `write`). */
  private readonly lanes = new Map<string, Promise<void>>();

  private async write(change: HookChange, store: () => Promise<void>): Promise<void> {
    // One write at a time per tenant in this process, so that its writes do not contend with each
    // other for the tenant's usage counter. The quotas themselves hold across processes: the store
    // counts each write against them (`usageGuard`).
    const before = this.lanes.get(change.tenant) ?? Promise.resolve();
    let done: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      done = resolve;
    });
    const mine = before.then(() => released);
    this.lanes.set(change.tenant, mine);
    await before;
    try {
      await this.deps.beforeWrite?.(change);
      await store();
    } catch (error) {
      // The caller must see why the write failed, not why the clean-up did.
      await this.deps.onWriteFailed?.(change).catch(() => undefined);
      throw error;
    } finally {
      done();
      if (this.lanes.get(change.tenant) === mine) this.lanes.delete(change.tenant);
    }
    await this.deps.afterWrite?.(change);
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now() / 1000);
  }
}

const DEFINITION_CHECK = compile(EventDefinitionSchema);

/**
 * Validates the body of `PUT /event-hooks/sources/{source}/{event}` against its schema
 * (`EventDefinitionSchema`), then the refinements: the names in the path, and `unique` a subset of `fields`.
 */
export function parseEventDefinition(source: string, event: string, body: unknown): EventDefinition {
  const errors = emptyRecord<string>();
  const sourceError = nameError(source);
  const eventError = nameError(event);
  if (sourceError) errors.source = sourceError;
  if (eventError) errors.event = eventError;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new SchemaViolationError({ ...errors, '@entity': ['expected a record'] });
  }
  const input = withDefaults(EventDefinitionSchema, body as Record<string, unknown>);
  const fields: FieldErrors = { ...errors };
  for (const [key, error] of Object.entries(kongErrors(DEFINITION_CHECK, input))) setOwn(fields, key, error);
  const definition = input as EventDefinitionFromSchema;
  // Refused lists go no further, so this check never sees more than the schema's most entries.
  if (!failedAt(fields, ['fields']) && !failedAt(fields, ['unique'])) {
    const known = new Set(definition.fields);
    const missing = (definition.unique ?? []).filter((name) => !known.has(name));
    if (missing.length > 0) fields.unique = `must be a subset of fields (not in fields: ${missing.join(', ')})`;
  }
  if (Object.keys(fields).length > 0) throw new SchemaViolationError(fields);
  return {
    fields: definition.fields,
    ...(definition.unique && definition.unique.length > 0 ? { unique: definition.unique } : {}),
    ...(typeof definition.description === 'string' ? { description: definition.description } : {}),
  };
}
