import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bill, runScenario, SCENARIOS, type Usage } from '../../bench/cost.ts';
import { startReceiver } from '../../bench/http.ts';
import { startDynalite } from '../../infra/local/embeddedStore.ts';

describe('npm run cost', () => {
  let store: Awaited<ReturnType<typeof startDynalite>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    store = await startDynalite();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.close();
  });

  const [single, batched, onChange] = SCENARIOS as [
    (typeof SCENARIOS)[0],
    (typeof SCENARIOS)[0],
    (typeof SCENARIOS)[0],
  ];

  it('counts what the AWS path does for single events: one request, one bus event, one message, one delivery each', async () => {
    const before = receiver.count();
    const usage = await runScenario(single, 20, store.endpoint, store.credentials, receiver.url);
    expect(receiver.count() - before).toBe(20);
    expect(usage.apiRequests).toBe(20);
    expect(usage.busChunks).toBe(20);
    expect(usage.sqsMessages).toBe(20);
    expect(usage.invocations).toEqual({ ingest: 20, dispatcher: 20, delivery: 20 });
    expect(usage.readUnits).toBeGreaterThan(0);
    // A plain webhook writes per event its record (GET /events/{id}, under 1 KB: one unit) and its
    // delivery's log record (one unit: its id names where it is, no pointer), and the usage its invocations counted:
    // one small item per invocation that counted (ingest and delivery; the dispatcher counts nothing).
    expect(usage.writeUnits).toBe(20 * (1 + 1) + 40);
    // Which calls they are: the breakdown `npm run cost` prints, by function, command and item.
    expect(usage.unitsByCall['dispatcher PutItem EVT']).toEqual({ reads: 0, writes: 20, calls: 20 });
    expect(usage.unitsByCall['delivery PutItem HDLV']).toEqual({ reads: 0, writes: 20, calls: 20 });
    expect(usage.unitsByCall['ingest UpdateItem USAGE']).toEqual({ reads: 0, writes: 20, calls: 20 });
    expect(usage.unitsByCall['delivery UpdateItem USAGE']).toEqual({ reads: 0, writes: 20, calls: 20 });
    expect(Object.keys(usage.unitsByCall).filter((call) => call.endsWith(' DLV'))).toEqual([]);
    expect(usage.logBytes).toBeGreaterThan(0);
  });

  it('sees the batching of requests and SQS receives, and the gate write of on_change', async () => {
    const batchedUsage = await runScenario(batched, 20, store.endpoint, store.credentials, receiver.url);
    expect(batchedUsage.apiRequests).toBe(2);
    expect(batchedUsage.invocations.delivery).toBe(2);
    // Each event's record and delivery log, and the usage of 10 events or 10 deliveries as one write.
    expect(batchedUsage.writeUnits).toBe(20 * (1 + 1) + 4);
    const gated = await runScenario(onChange, 20, store.endpoint, store.credentials, receiver.url);
    expect(gated.writeUnits).toBeGreaterThanOrEqual(20);
  });

  it('prices a usage line by line', () => {
    const usage: Usage = {
      events: 1000,
      apiRequests: 1000,
      ingestMs: Array(1000).fill(1),
      dispatchMs: Array(1000).fill(1),
      deliveryMs: Array(1000).fill(1),
      busChunks: 1000,
      sqsSends: 1000,
      sqsMessages: 1000,
      readUnits: 2000,
      writeUnits: 0,
      logBytes: 0,
      logBytesByMessage: {},
      unitsByCall: {},
      invocations: { ingest: 1000, dispatcher: 1000, delivery: 1000 },
    };
    const { lines, total } = bill(usage, 0);
    const cost = (item: string) => lines.find((line) => line.item === item)?.cost;
    expect(cost('API Gateway')).toBeCloseTo(1.0, 6);
    expect(cost('EventBridge')).toBeCloseTo(1.0, 6);
    expect(cost('SQS')).toBeCloseTo(1.2, 6);
    expect(cost('Lambda requests')).toBeCloseTo(0.6, 6);
    expect(cost('DynamoDB')).toBeCloseTo(0.25, 6);
    expect(total).toBeCloseTo(
      lines.reduce((a, l) => a + l.cost, 0),
      9,
    );
  });
});
