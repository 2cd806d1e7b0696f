import type { SourceCatalog } from '../hooks/catalog.ts';
import { mergeCatalog } from '../hooks/catalog.ts';
import type { EventHook } from '../hooks/hook.ts';
import type { Clock } from '../ports/clock.ts';
import type { HookStore } from '../store/hookStore.ts';
import type { SourceStore } from '../store/sourceStore.ts';

export interface HookCacheOptions {
  hooks: HookStore;
  sources: SourceStore;
  clock: Clock;
  /**
   * How long a version check is trusted. `0` checks on every look-up (local runtime: a change is
   * seen by the next event); on AWS about a second bounds staleness while keeping reads cheap.
   */
  checkIntervalMs: number;
  /** Reload even without a version change after this long, in case a version bump was lost. */
  maxAgeMs?: number;
}

interface TenantHooks {
  bySource: Map<string, EventHook[]>;
  byId: Map<string, EventHook>;
}

interface TenantState {
  tenant: string;
  version: number;
  checkedAt: number;
  loadedAt: number;
  catalog: SourceCatalog;
  /** Every hook of the tenant; loaded on the first dispatch under this version. */
  all?: Promise<TenantHooks>;
  /** Single hooks read by id (the delivery worker's look-ups), when the whole set is not loaded. */
  byId: Map<string, Promise<EventHook | undefined>>;
}

const NO_HOOKS: EventHook[] = [];

/**
 * The dispatcher's view of hooks and the catalog, cached per tenant so a burst of events does not
 * query the table per event. Freshness comes from the tenant's hooks version item (one strongly
 * consistent read per check), which every hook or source write bumps. Hooks are read from the base
 * table with strongly consistent reads, never from the eventually consistent `bySource` index: a
 * version read consistently and hooks read from a lagging index could pin a stale set under the
 * new version until `maxAgeMs`, so a new hook would be ignored for minutes.
 */
export class HookCache {
  private readonly options: HookCacheOptions;
  private readonly tenants = new Map<string, TenantState>();
  private readonly checks = new Map<string, Promise<TenantState>>();

  constructor(options: HookCacheOptions) {
    this.options = options;
  }

  async hooksFor(tenant: string, source: string): Promise<EventHook[]> {
    const { bySource } = await this.allHooks(await this.fresh(tenant));
    return bySource.get(source) ?? NO_HOOKS;
  }

  /** One hook by id (the delivery worker's look-up), `undefined` once it is deleted. */
  async hook(tenant: string, id: string): Promise<EventHook | undefined> {
    const state = await this.fresh(tenant);
    // In a process that dispatches, the whole set is loaded anyway; elsewhere one GetItem is cheaper.
    if (state.all) return (await state.all).byId.get(id);
    let hook = state.byId.get(id);
    if (!hook) {
      hook = this.options.hooks.get(tenant, id).then((stored) => stored?.hook);
      state.byId.set(id, hook);
      hook.catch(() => state.byId.delete(id));
    }
    return hook;
  }

  async catalog(tenant: string): Promise<SourceCatalog> {
    return (await this.fresh(tenant)).catalog;
  }

  private allHooks(state: TenantState): Promise<TenantHooks> {
    if (!state.all) {
      const loading = this.options.hooks.listAll(state.tenant).then((hooks) => {
        const all: TenantHooks = { bySource: new Map(), byId: new Map() };
        for (const hook of hooks) {
          all.byId.set(hook.id, hook);
          const list = all.bySource.get(hook.source);
          if (list) list.push(hook);
          else all.bySource.set(hook.source, [hook]);
        }
        return all;
      });
      state.all = loading;
      loading.catch(() => {
        if (state.all === loading) delete state.all;
      });
    }
    return state.all;
  }

  /** Forget what is cached, so the next look-up reads the store: called after every write made in this process. */
  invalidate(tenant?: string): void {
    if (tenant === undefined) this.tenants.clear();
    else this.tenants.delete(tenant);
  }

  private fresh(tenant: string): Promise<TenantState> {
    const now = this.options.clock.now();
    const state = this.tenants.get(tenant);
    if (state && now - state.checkedAt < this.options.checkIntervalMs) return Promise.resolve(state);
    // Concurrent look-ups share one version read.
    let check = this.checks.get(tenant);
    if (!check) {
      check = this.check(tenant, state, now).finally(() => this.checks.delete(tenant));
      this.checks.set(tenant, check);
    }
    return check;
  }

  private async check(tenant: string, state: TenantState | undefined, now: number): Promise<TenantState> {
    const version = await this.options.hooks.version(tenant);
    const maxAge = this.options.maxAgeMs ?? 5 * 60_000;
    if (state && state.version === version && now - state.loadedAt < maxAge) {
      state.checkedAt = now;
      return state;
    }
    const catalog = mergeCatalog(await this.options.sources.list(tenant));
    const next: TenantState = { tenant, version, checkedAt: now, loadedAt: now, catalog, byId: new Map() };
    this.tenants.set(tenant, next);
    return next;
  }
}
