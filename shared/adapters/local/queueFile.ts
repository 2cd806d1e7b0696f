import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../logger.ts';
import type { DeadLetter, DeliveryJob } from '../../ports/deliveryQueue.ts';

/** The file the local queue keeps across restarts: pending jobs and dead letters. */
export interface PersistedState {
  version: 1;
  jobs: { job: DeliveryJob; receiveCount: number; visibleAt: number }[];
  deadLetters: DeadLetter[];
}

/** Writes the queue file atomically (a temporary file, then a rename), so a crash never leaves half a file. */
export async function saveQueueFile(path: string, state: Omit<PersistedState, 'version'>): Promise<void> {
  const content: PersistedState = { version: 1, ...state };
  const tmp = `${path}.${process.pid}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, JSON.stringify(content));
  await rename(tmp, path);
}

/** Reads a persisted queue; an unreadable file is moved aside (never deleted) so the service can start. */
export function loadQueueFile(path: string, logger: Logger): Pick<PersistedState, 'jobs' | 'deadLetters'> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { jobs: [], deadLetters: [] };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PersistedState>;
    if (parsed.version !== 1 || !Array.isArray(parsed.jobs) || !Array.isArray(parsed.deadLetters)) {
      throw new Error('not a version 1 delivery queue file');
    }
    return { jobs: parsed.jobs, deadLetters: parsed.deadLetters };
  } catch (error) {
    const aside = `${path}.unreadable-${Date.now()}`;
    mkdirSync(dirname(aside), { recursive: true });
    renameSync(path, aside);
    logger.error('persisted delivery queue unreadable; moved aside', { path, aside, error });
    return { jobs: [], deadLetters: [] };
  }
}
