import { describe, expect, it } from 'vitest';
import { type QueueChange, QueueModel } from '../../../../shared/adapters/local/queueModel.ts';
import type { DeliveryJob } from '../../../../shared/ports/deliveryQueue.ts';
import { testJob } from '../../../support/jobs.ts';

const job = (hookId: string): DeliveryJob => testJob({ hookId });

const model = (overrides: { maxInFlightPerGroup?: number; record?: (c: QueueChange) => void } = {}) =>
  new QueueModel({ visibilityTimeoutMs: 100, maxReceiveCount: 2, maxInFlightPerGroup: 2, ...overrides });

describe('local queue model', () => {
  it('takes hooks in turn, skipping a hook at its cap, so a busy hook never blocks one queued behind it', () => {
    // Prepare
    const m = model();
    const a = [job('a'), job('a'), job('a'), job('a')];
    const b = [job('b'), job('b')];
    m.send([...a, ...b], 0);

    // Act
    const received = Array.from({ length: 6 }, () => m.receive(0)?.job.deliveryId);

    // Assess: a, b, a, b, then a is at its cap of 2
    expect(received).toEqual([a[0], b[0], a[1], b[1], undefined, undefined].map((j) => j?.deliveryId));
    expect(m.inFlightCount).toBe(4);
    expect(m.size).toBe(6);
  });

  it('gives a hook its slot back on acknowledgement', () => {
    // Prepare
    const m = model({ maxInFlightPerGroup: 1 });
    const [first, second] = [job('a'), job('a')];
    m.send([first as DeliveryJob, second as DeliveryJob], 0);
    const r = m.receive(0);
    expect(m.receive(0)).toBeUndefined();

    // Act
    expect(m.ack(r?.receipt as number)).toBe(true);

    // Assess
    expect(m.receive(0)?.job).toBe(second);
    expect(m.ack(r?.receipt as number)).toBe(false);
  });

  it('keeps delayed messages until tick passes their time, then in send order', () => {
    // Prepare
    const m = model();
    const later = job('a');
    const sooner = job('a');
    m.send([later], 0, 50);
    m.send([sooner], 0, 20);

    // Act + Assess
    expect(m.receive(0)).toBeUndefined();
    expect(m.nextDueAt()).toBe(20);
    m.tick(49);
    expect(m.receive(49)?.job).toBe(sooner);
    m.tick(50);
    expect(m.receive(50)?.job).toBe(later);
  });

  it('makes a message visible again when its deadline passes, unless extended, and dead-letters it at maxReceiveCount', () => {
    // Prepare
    const m = model();
    const j = job('a');
    m.send([j], 0);
    const first = m.receive(0);

    // Act
    m.extend(first?.receipt as number, 300);
    const whileExtended = m.tick(200);
    const expired = m.tick(300, 'hung');
    const second = m.receive(300);
    const dead = m.release(second?.receipt as number, 310, 'crash');

    // Assess
    expect(whileExtended).toEqual([]);
    expect(expired).toEqual([{ outcome: 'visible', job: j, receiveCount: 1 }]);
    expect(second?.receiveCount).toBe(2);
    expect(dead?.outcome).toBe('dead-lettered');
    expect(dead?.outcome === 'dead-lettered' && dead.deadLetter.reason).toBe(
      'received 2 times without acknowledgement (last: crash)',
    );
    expect(m.size).toBe(0);
  });

  it('records every change for persistence, and pending() lists what is not acknowledged', () => {
    // Prepare
    const changes: QueueChange['type'][] = [];
    const m = model({ record: (c) => changes.push(c.type) });
    const [x, y] = [job('a'), job('b')];

    // Act
    m.send([x as DeliveryJob, y as DeliveryJob], 10, 5);
    m.tick(15);
    const r = m.receive(15);
    m.ack(r?.receipt as number);

    // Assess
    expect(changes).toEqual(['sent', 'received', 'removed']);
    expect(m.pending(20)).toEqual([{ job: y, receiveCount: 0, visibleAt: 20 }]);
  });
});
