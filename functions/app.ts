import { type AwsAdapters, createAwsApp } from '../shared/adapters/aws/app.ts';
import type { App } from '../shared/app.ts';

/**
 * The app of one deployed function, built from the environment on first use and then kept for
 * the life of the execution environment. Each entry point names the AWS adapters it needs.
 */
export function awsApp(adapters: AwsAdapters): () => Promise<App> {
  let app: Promise<App> | undefined;
  return () => {
    app ??= Promise.resolve().then(() => createAwsApp(process.env, adapters));
    return app;
  };
}
