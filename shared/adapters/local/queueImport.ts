import { existsSync, renameSync } from 'node:fs';
import type { Logger } from '../../logger.ts';
import type { DeadLetter, DeliveryJob } from '../../ports/deliveryQueue.ts';
import type { DeliveryJournal } from './deliveryJournal.ts';
import { loadQueueFile } from './queueFile.ts';

/**
 * Takes over the queue file of the version before the journal (`queue.json`: pending jobs and dead
 * letters), so an upgrade loses nothing: the jobs go into the journal, which queues them again, and
 * the dead letters are stored where `/dead-letters` lists them. The file is then renamed
 * `<name>.imported` (never deleted, never imported twice) once the jobs are written to the journal.
 * Answers the jobs to queue, with when each is due.
 */
export async function importQueueFile(
  path: string,
  journal: DeliveryJournal,
  storeDeadLetter: (entry: DeadLetter) => Promise<unknown>,
  logger: Logger,
): Promise<{ job: DeliveryJob; visibleAt: number }[]> {
  if (!existsSync(path)) return [];
  const { jobs, deadLetters } = loadQueueFile(path, logger);
  await Promise.all(jobs.map(({ job, visibleAt }) => journal.sent([job], visibleAt).record));
  let unstored = 0;
  for (const entry of deadLetters) {
    try {
      await storeDeadLetter(entry);
    } catch (error) {
      // Still in the renamed file, which is kept; the log line says where.
      unstored++;
      logger.error('imported dead letter could not be stored; it stays in the imported file', {
        delivery_id: entry.job.deliveryId,
        file: `${path}.imported`,
        error,
      });
    }
  }
  // An unreadable file was already moved aside by loadQueueFile.
  if (existsSync(path)) renameSync(path, `${path}.imported`);
  logger.info('queue file imported', { path, jobs: jobs.length, dead_letters: deadLetters.length, unstored });
  return jobs.map(({ job, visibleAt }) => ({ job, visibleAt }));
}
