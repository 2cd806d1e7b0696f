import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { controlPlaneClient } from '../shared/adapters/aws/functionRunner.ts';
import { createFunctionSweeper, type SweepResult } from '../shared/adapters/aws/functionSweeper.ts';
import { awsApp } from './app.ts';

const currentApp = awsApp({});
let sweep: (() => Promise<SweepResult>) | undefined;

/** On a schedule: deletes the user functions no stored hook uses (see `createFunctionSweeper`). */
export const handler = middy<ScheduledEvent, SweepResult>().handler(async () => {
  const app = await currentApp();
  sweep ??= createFunctionSweeper({
    prefix: app.config.userFunctionPrefix,
    client: controlPlaneClient(),
    hooks: app.hooks,
    logger: app.logger,
  });
  return sweep();
});
