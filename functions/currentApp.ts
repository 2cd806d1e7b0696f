import { type AwsAdapters, createAwsApp } from '../shared/adapters/aws/awsWiring.ts';
import type { App } from '../shared/compositionRoot.ts';

/**
 * The app of one deployed function, built from the environment on first use and then kept for
 * the life of the execution environment. Each entry point names the AWS adapters it needs.
 */
export function awsApp(adapters: AwsAdapters): () => Promise<App> {
  let app: Promise<App> | undefined;
  return () => {
    if (!app) {
      app = Promise.resolve().then(() => createAwsApp(process.env, adapters));
      built.push(app);
    }
    return app;
  };
}

/** The apps built in this execution environment (one per entry point). */
const built: Promise<App>[] = [];
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
