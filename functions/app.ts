import type { App } from '../shared/app.ts';

let current: Promise<App> | undefined;

/** The local runtime hands its app in; on AWS the app is built from the environment on first use. */
export function setApp(app: App): void {
  current = Promise.resolve(app);
}

/** The app every entry point calls, created once per process (one per Lambda execution environment). */
export function currentApp(): Promise<App> {
  current ??= import('../shared/adapters/aws/app.ts').then(({ createAwsApp }) => createAwsApp());
  return current;
}
