/** Runs the user functions of `lambda` hooks: separate Lambda functions on AWS, child processes locally. */

export interface FunctionArgs {
  data: unknown;
  event: string | null;
  source: string;
  /** Kong passes the worker pid; here it is an identifier of the running worker, never the service's pid. */
  pid: number;
  /**
   * The delivery this call belongs to, given to user code as a fifth argument so that it can
   * de-duplicate side effects across retries. Absent when `/test` runs the hook.
   */
  context?: FunctionContext;
}

/** What user code gets as its fifth argument (`null` fields under `/test`). */
export interface FunctionContext {
  /** Stable across the retries of one delivery (`x-event-hooks-delivery` of webhooks). */
  deliveryId: string | null;
  /** 1 for the first try. */
  attempt: number | null;
  eventId: string | null;
}

export type FunctionTarget =
  /** User code from the hook's config, deployed by the runner. */
  | { kind: 'code'; tenant: string; hookId: string; index: number; code: string }
  /** An existing AWS Lambda function, by name or ARN. */
  | { kind: 'lambda'; name: string };

/**
 * Some or all entries of a hook's `config.functions`: `functions[i]` is the entry at index `i` of the
 * pipeline, `null` leaves that index out. An entry's function is identified by tenant, hook id,
 * index and code, so the same code at the same index is the same function across versions of a hook.
 */
export interface HookFunctions {
  tenant: string;
  id: string;
  functions: readonly (string | null)[];
}

export interface FunctionRunner {
  /**
   * Makes these entries ready to be invoked and touches nothing else: on AWS, creates the function of
   * each code entry that does not exist yet and waits until it is `Active`; locally there is nothing to
   * prepare (processes start on the first call). Functions of other entries, including older code of
   * the same hook, keep running until `remove` is called for them. Named Lambda functions need nothing.
   */
  deploy(hook: HookFunctions): Promise<void>;
  /**
   * Refuses, before the hook is stored, code entries that do not load to a function, as a
   * `SchemaViolationError` on `config.functions`. Where code can be loaded at no cost (locally, in the
   * sandbox) this is done; on AWS that would take a deployment, so the runner has no `verify`.
   */
  verify?(hook: HookFunctions): Promise<void>;
  /**
   * Deletes exactly the functions of these entries (code entries only: Lambda functions named by
   * an entry are never deleted); a function that is already gone is no error. Calls still running
   * on them may fail with a retryable `FunctionError`.
   */
  remove(hook: HookFunctions): Promise<void>;
  /** Call one function; resolves with its return value, rejects with a `FunctionError`. */
  invoke(target: FunctionTarget, args: FunctionArgs): Promise<unknown>;
}

/**
 * The code entries of `entries` that are not the same function in any of `others` (same index, same
 * code), as a `HookFunctions` list: what to remove when a hook moves from `entries` to one of `others`.
 *
 * @example functionsNotIn(['a', 'b'], [['a', 'c']]) // [null, 'b']
 */
export function functionsNotIn(
  entries: readonly (string | null)[],
  others: readonly (readonly (string | null)[] | undefined)[],
): (string | null)[] {
  return entries.map((entry, index) =>
    entry === null || isLambdaReference(entry) || others.some((other) => other?.[index] === entry) ? null : entry,
  );
}

const LAMBDA_REF =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?|[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?)$/;

/** A `functions` entry that names an existing Lambda function rather than carrying code. */
export function isLambdaReference(entry: string): boolean {
  return LAMBDA_REF.test(entry);
}

/** The bare function name of a Lambda reference (a name, or the function part of an ARN). */
export function lambdaFunctionName(reference: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:([^:]+)/.exec(reference);
  return arn ? (arn[1] as string) : (reference.split(':')[0] as string);
}
