import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../shared/logger.ts';
import { startLocalRuntime } from './localRuntime.ts';
import { nodeSupportNote, SDK_NODE_WARNING_SWITCH } from './nodeSupport.ts';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];

/** `npm start`: the whole service on this machine. Configuration: PORT, HOST, DATA_DIR, `--memory`. */
async function main(): Promise<void> {
  // The SDK's own Node version warning comes from the first client, 10 lines mid-log; the banner says
  // it once, in one line (nodeSupportNote). Set before any client exists; a user's own value is kept.
  const nodeNote = nodeSupportNote(process.version);
  process.env[SDK_NODE_WARNING_SWITCH] ??= 'true';
  const { values } = parseArgs({ options: { memory: { type: 'boolean', default: false } }, strict: true });
  const port = Number(process.env.PORT ?? 8001);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got '${process.env.PORT}'`);
  const host = process.env.HOST || '127.0.0.1';
  const dataDir = resolve(process.env.DATA_DIR || '.data');
  // The logger falls back to info on an unknown level; at start a typo is better said than ignored.
  const level = process.env.LOG_LEVEL;
  if (level && !LOG_LEVELS.includes(level))
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const logger = createLogger();
  const runtime = await startLocalRuntime({ port, host, dataDir, memory: values.memory, logger }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      throw new Error(`${host}:${port} is already in use (another npm start?): stop that, or set PORT to another port`);
    },
  );

  const keys = runtime.config.authMode === 'api-keys' ? runtime.config.tenancy : undefined;
  process.stdout.write(`${banner(runtime.url, values.memory ? undefined : dataDir, nodeNote, keys).join('\n')}\n`);

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

/** What `npm start` prints once it listens: where everything is, and what to type next. */
function banner(
  url: string,
  dataDir: string | undefined,
  nodeNote: string | undefined,
  /** With AUTH_MODE=api-keys, the tenancy: the curl example would only get a 401. */
  keys?: 'single' | 'multi',
): string[] {
  return [
    `event-hooks listening on ${url} (Admin API and POST /events)`,
    `  console: ${url}/console`,
    `  CLI:     export EVENT_HOOKS_URL=${url}`,
    `  data:    ${dataDir ?? 'in memory (nothing is kept)'}`,
    ...(nodeNote ? [nodeNote] : []),
    keys
      ? `API keys required (${keys}-tenant): EVENT_HOOKS_KEY=$OPERATOR_KEY npx event-hooks tenants list (docs/saas.md)`
      : `try: curl -s ${url}/event-hooks -H 'content-type: application/json' -d '{"source":"crud","event":"consumers","handler":"log"}'`,
  ];
}

main().catch((error: Error) => {
  process.stderr.write(`event-hooks could not start: ${error.message}\n`);
  process.exit(1);
});
