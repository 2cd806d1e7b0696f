import { performance } from 'node:perf_hooks';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime } from '../infra/local/localRuntime.ts';
import { createLogger } from '../shared/logger.ts';
import { createDocumentClient } from '../shared/store/dynamo.ts';
import { EVENT, SOURCE } from './events.ts';
import { createClient, startReceiver } from './http.ts';
import { type Figure, figure, summarize } from './stats.ts';

export interface AdminOptions {
  /** Hooks created (and listed, read, deleted). */
  hooks: number;
  /** Timed list requests of all hooks in one page. */
  lists: number;
}

const timed = async (samples: number[], action: () => Promise<unknown>) => {
  const start = performance.now();
  await action();
  samples.push(performance.now() - start);
};

/**
 * Figure 4: the Admin API over HTTP on the local runtime (in this process), one request at a time,
 * interleaved with the same operation straight on the store it uses (a document client on the
 * same dynalite and table, items of the same shape in a partition of their own).
 */
export async function benchAdmin(options: AdminOptions): Promise<Figure[]> {
  const receiver = await startReceiver();
  const runtime = await startLocalRuntime({
    port: 0,
    memory: true,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    logger: createLogger({ level: 'warn' }),
    drainMs: 1_000,
  });
  const client = createClient(4);
  const store = createDocumentClient({
    endpoint: runtime.config.dynamodbEndpoint as string,
    ...(runtime.storeCredentials ? { credentials: runtime.storeCredentials } : {}),
  });
  const table = runtime.config.tableName;
  const rawPk = 'bench#raw';
  const api = `${runtime.url}/event-hooks`;
  const t = {
    create: [] as number[],
    put: [] as number[],
    read: [] as number[],
    get: [] as number[],
    list: [] as number[],
    query: [] as number[],
    delete: [] as number[],
    rawDelete: [] as number[],
  };
  try {
    const ids: string[] = [];
    for (let i = 0; i < options.hooks; i++) {
      const body = { source: SOURCE, event: EVENT, handler: 'webhook', config: { url: receiver.url } };
      await timed(t.create, async () => {
        const res = await client.call('POST', api, body);
        if (res.status !== 201) throw new Error(`create answered ${res.status}: ${res.text}`);
        ids.push((JSON.parse(res.text) as { id: string }).id);
      });
      const hook = JSON.parse(JSON.stringify({ id: ids[i], created_at: 0, ...body }));
      await timed(t.put, () =>
        store.send(new PutCommand({ TableName: table, Item: { pk: rawPk, sk: `h#${ids[i]}`, rev: 1, hook } })),
      );
    }
    await runtime.app.settled();
    for (const id of ids) {
      await timed(t.read, async () => {
        const res = await client.call('GET', `${api}/${id}`);
        if (res.status !== 200) throw new Error(`read answered ${res.status}`);
      });
      await timed(t.get, () =>
        store.send(new GetCommand({ TableName: table, Key: { pk: rawPk, sk: `h#${id}` }, ConsistentRead: true })),
      );
    }
    for (let i = 0; i < options.lists; i++) {
      await timed(t.list, async () => {
        const res = await client.call('GET', `${api}?size=1000`);
        if (res.status !== 200) throw new Error(`list answered ${res.status}`);
        const listed = (JSON.parse(res.text) as { data: unknown[] }).data.length;
        if (listed !== Math.min(1000, options.hooks)) throw new Error(`list returned ${listed} hooks`);
      });
      await timed(t.query, () =>
        store.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': rawPk },
            Limit: 1000,
            ConsistentRead: true,
          }),
        ),
      );
    }
    for (const id of ids) {
      await timed(t.delete, async () => {
        const res = await client.call('DELETE', `${api}/${id}`);
        if (res.status !== 204) throw new Error(`delete answered ${res.status}`);
      });
      await timed(t.rawDelete, () =>
        store.send(new DeleteCommand({ TableName: table, Key: { pk: rawPk, sk: `h#${id}` }, ReturnValues: 'ALL_OLD' })),
      );
    }
  } finally {
    client.close();
    store.destroy();
    await runtime.close();
    await receiver.close();
  }

  const figures: Figure[] = [];
  const pair = (name: string, api: number[], raw: number[], rawName: string) => {
    const a = summarize(api);
    const b = summarize(raw);
    const note = `${a.count} requests one at a time over HTTP; baseline: ${rawName} on the same store`;
    figures.push(
      figure({ name: `admin ${name} p50`, unit: 'ms', value: a.p50, baseline: b.p50, note }),
      figure({ name: `admin ${name} p99`, unit: 'ms', value: a.p99, baseline: b.p99, note }),
    );
  };
  pair('create', t.create, t.put, 'store Put');
  pair('read', t.read, t.get, 'store Get (consistent)');
  pair(`list (${options.hooks} hooks)`, t.list, t.query, `store Query of ${options.hooks} items`);
  pair('delete', t.delete, t.rawDelete, 'store Delete');
  return figures;
}
