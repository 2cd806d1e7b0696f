import { describe, expect, it } from 'vitest';
import { QueueModel } from '../../../../shared/adapters/local/queueModel.ts';
import type { DeliveryJob } from '../../../../shared/ports/deliveryQueue.ts';
import { testJob } from '../../../support/jobs.ts';

const job = (tenant: string, hookId: string): DeliveryJob => testJob({ tenant, hookId });

const tenantsInFlight = (received: (DeliveryJob | undefined)[]) =>
  received.reduce<Record<string, number>>((counts, j) => {
    if (j) counts[j.tenant] = (counts[j.tenant] ?? 0) + 1;
    return counts;
  }, {});

describe('local queue model: deliveries in flight per tenant', () => {
  it('holds a tenant at its cap over all its hooks, and keeps receiving the other tenants’ messages', () => {
    // Prepare: tenant a floods through four hooks, b has one message
    const caps: Record<string, number> = { a: 3, b: 3 };
    const m = new QueueModel({
      visibilityTimeoutMs: 1_000,
      maxReceiveCount: 5,
      maxInFlightPerGroup: 10,
      maxInFlightPerTenant: (tenant) => caps[tenant] ?? 1,
    });
    for (const hook of ['h1', 'h2', 'h3', 'h4'])
      m.send(
        Array.from({ length: 5 }, () => job('a', hook)),
        0,
      );
    m.send([job('b', 'h1')], 0);

    // Act: receive as a pump with 10 free workers would
    const received = Array.from({ length: 10 }, () => m.receive(0));

    // Assess: a stops at 3 though its hooks have room; b is not starved
    expect(tenantsInFlight(received.map((r) => r?.job))).toEqual({ a: 3, b: 1 });
    expect(m.inFlightCount).toBe(4);
  });

  it('lets the tenant take another slot as soon as one of its messages lands, from the hook it was passed over on', () => {
    // Prepare
    const m = new QueueModel({
      visibilityTimeoutMs: 1_000,
      maxReceiveCount: 5,
      maxInFlightPerGroup: 10,
      maxInFlightPerTenant: () => 1,
    });
    m.send([job('a', 'h1'), job('a', 'h1')], 0);
    m.send([job('a', 'h2')], 0);
    const first = m.receive(0);
    expect(m.receive(0)).toBeUndefined();

    // Act
    m.ack(first?.receipt as number);
    const second = m.receive(0);
    m.release(second?.receipt as number, 0, 'crash');
    const third = m.receive(0);

    // Assess: the hooks keep their turns, one message at a time
    expect(first?.job.hookId).toBe('h1');
    expect(second?.job.hookId).toBe('h2');
    expect(third?.job.hookId).toBe('h1');
    expect(m.receive(0)).toBeUndefined();
    expect(m.size).toBe(2);
  });

  it('applies a changed cap on the next receive', () => {
    // Prepare
    let cap = 1;
    const m = new QueueModel({
      visibilityTimeoutMs: 1_000,
      maxReceiveCount: 5,
      maxInFlightPerGroup: 10,
      maxInFlightPerTenant: () => cap,
    });
    m.send(
      Array.from({ length: 4 }, () => job('a', 'h1')),
      0,
    );
    m.receive(0);
    expect(m.receive(0)).toBeUndefined();

    // Act
    cap = 3;
    const more = [m.receive(0), m.receive(0), m.receive(0)];

    // Assess: two more, none past the new cap
    expect(more.map((r) => r !== undefined)).toEqual([true, true, false]);
    expect(m.inFlightCount).toBe(3);
  });
});
