import { type AwsAdapters, createAwsCore } from '../shared/adapters/aws/awsWiring.ts';
import type { Core } from '../shared/composition/core.ts';
import { afterEachInvocation } from './invocation.ts';

/**
 * The app of one deployed function, built from the environment on first use and then kept for
 * the life of the execution environment: the shared core with the AWS adapters the entry point
 * names, and the one surface it serves (`surface`, e.g. `createDeliverySurface`), so that its
 * bundle carries neither the other surfaces nor the SDK clients it does not use.
 */
export function awsApp<S extends object>(adapters: AwsAdapters, surface: (core: Core) => S): () => Promise<Core & S> {
  let app: Promise<Core & S> | undefined;
  return () => {
    if (!app) {
      app = Promise.resolve().then(() => {
        const core = createAwsCore(process.env, adapters);
        return { ...core, ...surface(core) };
      });
      built.push(app);
    }
    return app;
  };
}

/** The apps built in this execution environment (one per entry point). */
const built: Promise<Core>[] = [];
let lastFlush = 0;

/**
 * Writes the usage counted during the invocation (one `UpdateItem` per tenant and day it touched),
 * before Lambda may freeze the environment: a frozen one may never run again. With
 * `METERING_FLUSH_MS` above 0, only once the last write is that old: fewer writes, but what an
 * environment counted since its last write is lost if Lambda retires it (docs/saas.md § Metering).
 */
export async function flushUsage(now = Date.now()): Promise<void> {
  await Promise.all(
    built.map(async (app) => {
      // An app that failed to build counted nothing; its error is the invocation's own.
      const ready = await app.catch(() => undefined);
      if (!ready || now - lastFlush < ready.config.meteringFlushMs) return;
      lastFlush = now;
      await ready.meter.flush();
    }),
  );
}

// Every function that builds an app writes its usage as each invocation ends (functions/invocation.ts).
afterEachInvocation(() => flushUsage());
