import { FunctionError } from '../../../shared/errors.ts';
import type { HandlerDeps } from '../../../shared/handlers/types.ts';
import type { HandlerConfigs, HandlerName, HookOf } from '../../../shared/hooks/hook.ts';
import { createHttpSender, type HttpSender } from '../../../shared/http/httpSender.ts';
import { type Logger, memoryLogger } from '../../../shared/logger.ts';
import type { FunctionArgs, FunctionRunner, FunctionTarget } from '../../../shared/ports/functionRunner.ts';

/** A hook entity as the store would hand it over (defaults already applied). */
export function hookOf<H extends HandlerName>(handler: H, config: HandlerConfigs[H]): HookOf<H> {
  return {
    id: '0b9c2f3e-8a51-4f0e-9d1c-5a7e6b4c3d21',
    created_at: 1_700_000_000,
    source: 'crud',
    event: 'consumers',
    handler,
    on_change: null,
    snooze: null,
    config,
  };
}

export type Implementation = (args: FunctionArgs) => unknown;

/**
 * A FunctionRunner double: each code string or Lambda name maps to a JavaScript implementation
 * given by the test, and every invocation is recorded.
 */
export function recordingRunner(implementations: Record<string, Implementation>): FunctionRunner & {
  calls: { target: FunctionTarget; args: FunctionArgs }[];
} {
  const calls: { target: FunctionTarget; args: FunctionArgs }[] = [];
  return {
    calls,
    deploy: async () => undefined,
    remove: async () => undefined,
    async invoke(target, args) {
      calls.push({ target, args });
      const key = target.kind === 'lambda' ? target.name : target.code;
      const implementation = implementations[key];
      if (!implementation) throw new FunctionError(`no implementation for ${key}`);
      return implementation(args);
    },
  };
}

export interface TestDeps extends HandlerDeps {
  http: HttpSender;
  logger: Logger & { lines: Record<string, unknown>[] };
}

/** Real HTTP sender, in-memory logger, a runner double; `close()` frees the sender's sockets. */
export function testDeps(functions: FunctionRunner = recordingRunner({})): TestDeps {
  return { http: createHttpSender(), functions, logger: memoryLogger(), tenant: 'acme' };
}
