import type { Logger } from '../logger.ts';
import { type DeliveryJob, type DeliveryQueue, JobsTooLargeError } from '../ports/deliveryQueue.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { DeadLetterStore } from '../store/deadLetterStore.ts';

export interface EnqueueDeps {
  queue: DeliveryQueue;
  deadLetters: Pick<DeadLetterStore, 'put'>;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Sends jobs to the delivery queue; a job the queue cannot take for its size is dead-lettered on
 * its own, with the reason, while the others go ahead (one oversized job must not drop the whole
 * event, nor be retried for ever). Any other failure rejects, so the caller is retried.
 * Resolves with the delivery ids that were dead-lettered rather than queued.
 */
export async function enqueue(
  deps: EnqueueDeps,
  jobs: DeliveryJob[],
  now: number,
  options?: { delayMs?: number },
): Promise<Set<string>> {
  try {
    await deps.queue.send(jobs, options);
    return new Set();
  } catch (error) {
    if (!(error instanceof JobsTooLargeError)) throw error;
    await Promise.all(
      error.jobs.map(async ({ job, bytes }) => {
        const reason = error.reasonFor(bytes);
        await deps.deadLetters.put({ job, reason, deadLetteredAt: now });
        deps.metrics?.count('dead_letters', { cause: 'too_large' });
        deps.logger.error('delivery', {
          hook_id: job.hookId,
          event_id: job.event.id,
          delivery_id: job.deliveryId,
          attempt: job.attempt,
          outcome: 'dead-letter',
          reason,
        });
      }),
    );
    return new Set(error.jobs.map(({ job }) => job.deliveryId));
  }
}
