import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from './store.ts';

describe('test store', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await startTestStore();
  });
  afterAll(() => store.close());

  it('round-trips an item through the real store', async () => {
    await store.client.send(new PutCommand({ TableName: store.tableName, Item: { pk: 'a', sk: 'b', v: 1 } }));
    const { Item } = await store.client.send(new GetCommand({ TableName: store.tableName, Key: { pk: 'a', sk: 'b' } }));
    expect(Item).toEqual({ pk: 'a', sk: 'b', v: 1 });
  });
});
