import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/ports/clock.ts';
import { AuditStore } from '../../../shared/store/auditStore.ts';
import { keys } from '../../../shared/store/table.ts';
import { startTestStore, type TestStore } from '../../support/store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const change = { actor: 'key_1', method: 'POST', route: '/event-hooks', status: 201 };

describe('AuditStore', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  it('writes one small item per change with a TTL at the end of the retention window', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const audit = new AuditStore({ client: store.client, tableName: store.tableName, retentionDays: 90, clock });
    const entry = await audit.record('t1', { ...change, resourceId: 'abc' });
    const { Item } = await store.client.send(
      new GetCommand({ TableName: store.tableName, Key: keys.audit('t1', entry.id) }),
    );
    expect(Item).toEqual({
      ...keys.audit('t1', entry.id),
      at: clock.now(),
      actor: 'key_1',
      method: 'POST',
      route: '/event-hooks',
      resource_id: 'abc',
      status: 201,
      expires_at: Math.ceil((clock.now() + 90 * DAY_MS) / 1000),
    });
  });

  it('hides entries whose retention has passed even while TTL has not deleted them, and keeps tenants apart', async () => {
    const clock = new ManualClock(Date.UTC(2026, 1, 1));
    const audit = new AuditStore({ client: store.client, tableName: store.tableName, retentionDays: 1, clock });
    await audit.record('t2', { ...change, route: '/old' });
    clock.advance(DAY_MS / 2);
    await audit.record('t2', { ...change, route: '/new' });
    await audit.record('t3', { ...change, route: '/other-tenant' });
    expect((await audit.list('t2', { size: 10 })).entries.map((e) => e.route)).toEqual(['/new', '/old']);
    clock.advance(DAY_MS / 2 + 1);
    expect((await audit.list('t2', { size: 10 })).entries.map((e) => e.route)).toEqual(['/new']);
    // Still stored: the sweeper (or DynamoDB TTL) deletes it later; the read already hides it.
    const { Items } = await store.client.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.auditPartition('t2') },
      }),
    );
    expect(Items).toHaveLength(2);
  });
});
