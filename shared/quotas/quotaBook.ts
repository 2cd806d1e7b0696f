import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../ports/clock.ts';
import { keys } from '../store/table.ts';
import { effectiveQuotas, type QuotaOverrides, type Quotas } from './quotas.ts';

export interface QuotaBookOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** The deployment's defaults (`QUOTA_*`). */
  defaults: Quotas;
  clock: Clock;
  /**
   * How long a tenant's quotas are used before they are read again (default 60 s). A change made
   * through this process is seen at once; other processes (other Lambda instances) see it within this.
   */
  cacheMs?: number;
}

/** Tenants whose quotas are kept in memory; past this the cache starts afresh rather than grow. */
const MAX_CACHED_TENANTS = 10_000;

/**
 * Each tenant's quotas: the defaults with the operator's overrides (one small item per tenant on the
 * one table), cached so that a request costs no read.
 *
 * @example
 * const book = new QuotaBook({ client, tableName, defaults: config.quotas, clock });
 * const { events_per_second } = await book.get('acme');
 */
export class QuotaBook {
  private readonly cache = new Map<string, { quotas: Quotas; readAt: number }>();
  private readonly cacheMs: number;

  constructor(private readonly options: QuotaBookOptions) {
    this.cacheMs = options.cacheMs ?? 60_000;
  }

  get defaults(): Quotas {
    return { ...this.options.defaults };
  }

  /** The quotas in force for `tenant`. */
  async get(tenant: string): Promise<Quotas> {
    const cached = this.cache.get(tenant);
    if (cached && this.options.clock.now() - cached.readAt < this.cacheMs) return cached.quotas;
    return this.remember(tenant, effectiveQuotas(this.options.defaults, await this.overrides(tenant)));
  }

  /**
   * The quotas last read for `tenant`, or the defaults, without waiting (the local delivery queue
   * asks on every receive); a stale or missing entry is read again in the background.
   */
  peek(tenant: string): Quotas {
    const cached = this.cache.get(tenant);
    if (!cached || this.options.clock.now() - cached.readAt >= this.cacheMs) {
      // A failed read leaves the defaults (or the last known quotas) in force; the next peek tries again.
      this.get(tenant).catch(() => undefined);
    }
    return cached?.quotas ?? this.options.defaults;
  }

  /** What the operator set for `tenant` (strongly consistent: the answer of `GET /tenants/{id}/quotas`). */
  async overrides(tenant: string): Promise<QuotaOverrides> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: keys.quotas(tenant), ConsistentRead: true }),
    );
    return (Item?.overrides as QuotaOverrides | undefined) ?? {};
  }

  /** Replaces the tenant's overrides; this process uses them at once. */
  async set(tenant: string, overrides: QuotaOverrides): Promise<Quotas> {
    await this.options.client.send(
      new PutCommand({ TableName: this.options.tableName, Item: { ...keys.quotas(tenant), overrides } }),
    );
    return this.remember(tenant, effectiveQuotas(this.options.defaults, overrides));
  }

  private remember(tenant: string, quotas: Quotas): Quotas {
    if (this.cache.size >= MAX_CACHED_TENANTS && !this.cache.has(tenant)) this.cache.clear();
    this.cache.set(tenant, { quotas, readAt: this.options.clock.now() });
    return quotas;
  }
}
