import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from '../store.ts';
import type { FuzzCase } from './corpus.ts';
import { runFuzz, storeSnapshot } from './harness.ts';

/**
 * The fuzz harness must be able to fail: a server that answers 500, one that writes for a request
 * it refuses, and one whose /health is slow are each caught.
 */
describe('fuzz harness', () => {
  let store: TestStore;
  let server: Server;
  let url: string;
  let healthDelayMs = 0;
  let written = 0;

  beforeAll(async () => {
    store = await startTestStore();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        if (req.url === '/health') {
          setTimeout(() => res.end('{}'), healthDelayMs);
          return;
        }
        if (req.url === '/boom') {
          res.writeHead(500).end('{"message":"boom"}');
          return;
        }
        if (req.url === '/sneaky' && req.method === 'POST') {
          const item = { pk: 'T#default#HOOK', sk: `sneaky-${written++}`, rev: 1 };
          await store.client.send(new PutCommand({ TableName: store.tableName, Item: item }));
        }
        res.writeHead(400).end('{"message":"refused"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  });

  const request = (n: number, method: string, target: string): FuzzCase => ({
    n,
    kind: 'test',
    route: `${method} ${target}`,
    method,
    target,
    headers: [],
    body: '{}',
  });

  it('reports a 5xx and a refused request that wrote, and nothing for a clean refusal', async () => {
    const result = await runFuzz({
      url,
      cases: [request(1, 'POST', '/fine'), request(2, 'GET', '/boom'), request(3, 'POST', '/sneaky')],
      snapshot: storeSnapshot(store.client, store.tableName),
    });
    expect(result.failures.map((f) => [f.n, f.reason])).toEqual([
      [2, '5xx'],
      [3, 'wrote though refused'],
    ]);
    expect(result.failures[1]?.detail).toContain('sneaky-0');
  });

  it('reports /health answering slower than the limit', async () => {
    healthDelayMs = 400;
    const result = await runFuzz({
      url,
      cases: Array.from({ length: 20 }, (_, i) => request(i, 'GET', '/fine')),
      healthLimitMs: 200,
      healthEveryMs: 10,
    });
    healthDelayMs = 0;
    expect(result.healthFailures.length).toBeGreaterThan(0);
  });
});
