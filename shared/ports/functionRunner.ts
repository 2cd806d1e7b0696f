/** Runs the user functions of `lambda` hooks: separate Lambda functions on AWS, child processes locally. */

export interface FunctionArgs {
  data: unknown;
  event: string;
  source: string;
  /** Kong passes the worker pid; here it is an identifier of the running worker. */
  pid: number;
}

export type FunctionTarget =
  /** User code from the hook's config, deployed by the runner. */
  | { kind: 'code'; tenant: string; hookId: string; index: number; code: string }
  /** An existing AWS Lambda function, by name or ARN. */
  | { kind: 'lambda'; name: string };

export interface FunctionRunner {
  /** Prepare the hook's code (create/update functions on AWS; nothing to do locally but free stale workers). */
  deploy(hook: { tenant: string; id: string; functions: string[] }): Promise<void>;
  /** Remove whatever `deploy` created for the hook. */
  remove(hook: { tenant: string; id: string; functions: string[] }): Promise<void>;
  /** Call one function; resolves with its return value, rejects with a `FunctionError`. */
  invoke(target: FunctionTarget, args: FunctionArgs): Promise<unknown>;
}

const LAMBDA_REF =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?|[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?)$/;

/** A `functions` entry that names an existing Lambda function rather than carrying code. */
export function isLambdaReference(entry: string): boolean {
  return LAMBDA_REF.test(entry);
}
