import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ExpiringStore, type ExpiringStoreOptions } from './expiringStore.ts';
import { keys, TABLE_SCHEMA } from './table.ts';

/** One change made through the Admin API: who, what, when, and how it ended. Never a body. */
export interface AuditChange {
  /** The API key's id, `operator`, or `anonymous` when auth is off. */
  actor: string;
  method: string;
  /** The route pattern (`/event-hooks/{id}`), never the raw path, which may carry anything. */
  route: string;
  /** The hook, source/event or dead letter the change was about, when it names one. */
  resourceId?: string;
  /** The status of the answer. */
  status: number;
}

export interface AuditEntry extends AuditChange {
  /** Sorts by time: `<ms, 13 digits>-<random>`. */
  id: string;
  /** When the change was answered (ms since the epoch). */
  at: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  next?: string;
}

interface AuditItem {
  pk: string;
  sk: string;
  at: number;
  actor: string;
  method: string;
  route: string;
  resource_id?: string;
  status: number;
  expires_at: number;
}

const ID = /^\d{13}-[0-9a-f]{16}$/;
const timeKey = (ms: number) => String(Math.max(0, ms)).padStart(13, '0');
/** Orders the changes one process records within a millisecond; the random part keeps processes apart. */
let sequence = 0;

/**
 * Each tenant's audit log: one small item per change (one write, never a read first), in the tenant's
 * own partition sorted by time, so the newest come first from one query. Items expire through
 * DynamoDB TTL after the retention period (90 days by default); TTL deletes late, so reads also
 * skip entries whose expiry has passed.
 */
export class AuditStore extends ExpiringStore {
  constructor(options: ExpiringStoreOptions) {
    super(options, 90);
  }

  async record(tenant: string, change: AuditChange): Promise<AuditEntry> {
    const at = this.clock.now();
    sequence = (sequence + 1) & 0xffff;
    const id = `${timeKey(at)}-${sequence.toString(16).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
    const item: AuditItem = {
      ...keys.audit(tenant, id),
      at,
      actor: change.actor,
      method: change.method,
      route: change.route,
      ...(change.resourceId ? { resource_id: change.resourceId } : {}),
      status: change.status,
      [TABLE_SCHEMA.ttlAttribute]: this.expiresAt(at),
    };
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { id, at, ...change };
  }

  /**
   * Newest first, unexpired only, from `sinceMs` on when given; `offset` is the opaque `next` of the
   * previous page.
   */
  async list(tenant: string, options: { size: number; offset?: string; sinceMs?: number }): Promise<AuditPage> {
    const { items, next } = await this.page<AuditItem>({
      ...options,
      keyOf: (sk) => keys.audit(tenant, sk),
      offsetPattern: ID,
      from: options.sinceMs !== undefined ? timeKey(options.sinceMs) : undefined,
      newestFirst: true,
    });
    return { entries: items.map(decode), ...(next ? { next } : {}) };
  }
}

function decode(item: AuditItem): AuditEntry {
  return {
    id: item.sk,
    at: item.at,
    actor: item.actor,
    method: item.method,
    route: item.route,
    ...(item.resource_id ? { resourceId: item.resource_id } : {}),
    status: item.status,
  };
}
