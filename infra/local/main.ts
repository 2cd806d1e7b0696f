import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../shared/logger.ts';
import { startLocalRuntime } from './localRuntime.ts';

/** `npm start`: the whole service on this machine. Configuration: PORT, HOST, DATA_DIR, `--memory`. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { memory: { type: 'boolean', default: false } }, strict: true });
  const port = Number(process.env.PORT ?? 8001);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got '${process.env.PORT}'`);
  const host = process.env.HOST || '127.0.0.1';
  const dataDir = resolve(process.env.DATA_DIR || '.data');
  const logger = createLogger();
  const runtime = await startLocalRuntime({ port, host, dataDir, memory: values.memory, logger });

  const store = values.memory ? 'in memory (nothing is kept)' : `in ${dataDir}`;
  process.stdout.write(
    [
      `event-hooks listening on ${runtime.url} (Admin API and POST /events); data ${store}`,
      runtime.config.authMode === 'api-keys'
        ? `${runtime.config.tenancy === 'multi' ? 'multi-tenant, ' : ''}API keys required; with OPERATOR_KEY as the key: npx event-hooks tenants list --url ${runtime.url} (docs/saas.md)`
        : `try: curl -s ${runtime.url}/event-hooks -H 'content-type: application/json' -d '{"source":"crud","event":"consumers","handler":"log"}'`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping; queued deliveries are drained or kept for the next start\n`);
    runtime.close().then(
      () => process.exit(0),
      (error) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: Error) => {
  process.stderr.write(`event-hooks could not start: ${error.message}\n`);
  process.exit(1);
});
