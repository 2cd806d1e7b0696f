import type { HookDeployment } from '../hooks/hook.ts';

/**
 * Work on the user functions of one hook, done off the request path: make the functions of the hook
 * as stored now ready (when its deployment is `pending`), then remove those of `remove` that it does
 * not use. The job names no version: it always works on what is stored when it runs, so a job that
 * runs late or twice does no harm.
 */
export interface FunctionDeployJob {
  tenant: string;
  hookId: string;
  /** Code entries of earlier versions (by index, `null` for none) that may have become unused. */
  remove: (string | null)[];
}

/**
 * Where the Admin API hands deploy jobs. On AWS an SQS queue read by the deploy worker (a few at a
 * time, within Lambda's control-plane quota); locally the job runs at once, inside the request,
 * since starting nothing is instant there.
 */
export interface FunctionDeployQueue {
  /**
   * Resolves once the job is queued (AWS: `undefined`, the hook stays as stored) or done (locally:
   * the hook's deployment as the job left it).
   */
  send(job: FunctionDeployJob): Promise<HookDeployment | undefined>;
}
