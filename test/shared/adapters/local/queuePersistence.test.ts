import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  memoryPersistence,
  type PersistedQueue,
  snapshotPersistence,
} from '../../../../shared/adapters/local/queuePersistence.ts';
import { memoryLogger } from '../../../../shared/logger.ts';
import type { DeliveryJob } from '../../../../shared/ports/deliveryQueue.ts';

const job: DeliveryJob = {
  type: 'deliver.v1',
  deliveryId: 'd-1',
  tenant: 'default',
  hookId: 'h',
  event: { id: 'e-1', time: new Date(0).toISOString(), tenant: 'default', source: 's', event: 'e', data: {} },
  attempt: 1,
  firstQueuedAt: 0,
};

describe('queue persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'queue-persistence-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('snapshot: a flush after a change writes the current state, and load reads it back', async () => {
    // Prepare
    const path = join(dir, 'queue.json');
    let state: PersistedQueue = { jobs: [], deadLetters: [] };
    const persistence = snapshotPersistence({ path, logger: memoryLogger(), snapshotMs: 60_000 })(() => state);
    expect(persistence.load()).toEqual({ jobs: [], deadLetters: [] });

    // Act
    state = { jobs: [{ job, receiveCount: 1, visibleAt: 5 }], deadLetters: [] };
    persistence.record({ type: 'sent', entries: state.jobs });
    await persistence.flush();
    const written = JSON.parse(await readFile(path, 'utf8'));
    await persistence.flush({ final: true });

    // Assess
    expect(written).toEqual({ version: 1, ...state });
    const reopened = snapshotPersistence({ path, logger: memoryLogger() })(() => state);
    expect(reopened.load()).toEqual(state);
    await reopened.flush({ final: true });
  });

  it('snapshot: writes nothing while nothing was recorded', async () => {
    const path = join(dir, 'queue.json');
    const persistence = snapshotPersistence({ path, logger: memoryLogger(), snapshotMs: 60_000 })(() => ({
      jobs: [{ job, receiveCount: 0, visibleAt: 0 }],
      deadLetters: [],
    }));
    await persistence.flush();
    await expect(readFile(path, 'utf8')).rejects.toThrow(/ENOENT/);
    await persistence.flush({ final: true });
    expect(JSON.parse(await readFile(path, 'utf8')).jobs).toHaveLength(1);
  });

  it('memory: loads nothing and warns at the final flush about what it drops', async () => {
    const logger = memoryLogger();
    const persistence = memoryPersistence(logger)(() => ({
      jobs: [{ job, receiveCount: 0, visibleAt: 0 }],
      deadLetters: [],
    }));
    expect(persistence.load()).toEqual({ jobs: [], deadLetters: [] });
    await persistence.flush({ final: true });
    expect(
      logger.lines.find((l) => l.message === 'pending deliveries dropped: the queue is memory only'),
    ).toBeDefined();
  });
});
