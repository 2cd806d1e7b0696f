import { randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Clock, systemClock } from '../ports/clock.ts';
import { isConditionalCheckFailed } from './dynamo.ts';
import { keys, TABLE_SCHEMA } from './table.ts';

/** What a claim found: the key is ours now, or an earlier request finished or still runs under it. */
export type Claim =
  | { status: 'claimed'; token: string }
  | { status: 'done'; answer: string }
  /** Another request holds the key with a different fingerprint (a different body). */
  | { status: 'mismatch' }
  /** Another request holds the key and did not finish within the wait. */
  | { status: 'in-progress' };

interface IdempotencyItem {
  pk: string;
  sk: string;
  state: 'pending' | 'done';
  token: string;
  fingerprint: string;
  answer?: string;
  expires_at: number;
}

export interface IdempotencyStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** How long a finished answer is kept (24 h). */
  retentionMs?: number;
  /** How long a claim holds before another request may take over (a crashed request's lock). */
  lockMs?: number;
  /** How long a claim waits for another request holding the key to finish. */
  waitMs?: number;
}

const HOUR_MS = 60 * 60 * 1000;
const POLL_MS = 25;

/**
 * Idempotency records in the table: a claim is a conditional put (the key is free, or its record
 * expired), so of two concurrent requests with one key exactly one goes on; the record then turns
 * from pending into done with the answer. A pending record whose request crashed expires after the
 * lock time and can be claimed again. Expiry is also compared with now on every read, since TTL
 * deletion lags (up to about 48 h on AWS; the embedded store only has its sweeper).
 *
 * Hand-written rather than Powertools' idempotency utility: one request claims many keys (the
 * request's and each event id's), the keys must start with the tenant in the one table, and the same
 * code must run against the embedded store; the utility wraps one function call per key in its own
 * record layout.
 */
export class IdempotencyStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly lockMs: number;
  private readonly waitMs: number;

  constructor(options: IdempotencyStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.retentionMs = options.retentionMs ?? 24 * HOUR_MS;
    this.lockMs = options.lockMs ?? 30_000;
    this.waitMs = options.waitMs ?? 3_000;
  }

  /**
   * Claims `scope` for one request, or tells what an earlier request under it left. While another
   * request holds it with the same fingerprint, waits up to `waitMs` for its answer.
   */
  async claim(tenant: string, scope: string, fingerprint: string): Promise<Claim> {
    const key = keys.idempotency(tenant, scope);
    for (let waited = 0, round = 0; ; round++) {
      if (round > 1000) throw new Error(`could not claim idempotency key ${scope}`);
      const now = this.clock.now();
      const token = randomUUID();
      const item: IdempotencyItem = {
        ...key,
        state: 'pending',
        token,
        fingerprint,
        [TABLE_SCHEMA.ttlAttribute]: toSeconds(now + this.lockMs),
      };
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk) OR #exp <= :now',
            ExpressionAttributeNames: { '#exp': TABLE_SCHEMA.ttlAttribute },
            ExpressionAttributeValues: { ':now': Math.floor(now / 1000) },
          }),
        );
        return { status: 'claimed', token };
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      const found = Item as IdempotencyItem | undefined;
      // Deleted (released) or expired since the put: claim again.
      if (!found || found.expires_at * 1000 <= this.clock.now()) continue;
      if (found.fingerprint !== fingerprint) return { status: 'mismatch' };
      if (found.state === 'done' && typeof found.answer === 'string') return { status: 'done', answer: found.answer };
      if (waited >= this.waitMs) return { status: 'in-progress' };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      waited += POLL_MS;
    }
  }

  /** Stores the answer of a claim; false when the claim was lost (its lock expired and was taken over). */
  async complete(tenant: string, scope: string, token: string, answer: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.idempotency(tenant, scope),
          UpdateExpression: 'SET #state = :done, answer = :answer, #exp = :exp',
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#state': 'state', '#exp': TABLE_SCHEMA.ttlAttribute, '#token': 'token' },
          ExpressionAttributeValues: {
            ':done': 'done',
            ':answer': answer,
            ':exp': toSeconds(this.clock.now() + this.retentionMs),
            ':token': token,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Gives a claim up (the request failed), so a retry can claim the key at once. */
  async release(tenant: string, scope: string, token: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.idempotency(tenant, scope),
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

const toSeconds = (ms: number) => Math.ceil(ms / 1000);
