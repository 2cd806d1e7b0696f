import { AsyncLocalStorage } from 'node:async_hooks';
import { isSealed } from './ports/secretCipher.ts';
import { setOwn } from './records.ts';

/**
 * Structured logging: one JSON object per line on stdout, as CloudWatch Logs and `npm start` both
 * read it. Values under keys that name secrets are replaced before anything is written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|password|authorization|signature|token|api[-_]?key|credential|cookie/i;

/**
 * Whether a key or header name names a secret (`secret`, `Authorization`, `X-Api-Key`…): the one
 * rule for what the logs and read-scope answers mask and what a hook seals at rest (shared/secrets).
 */
export function isSecretName(name: string): boolean {
  return SECRET_KEY.test(name);
}

/** Deep copy with secret-looking keys masked; errors become `{ name, message }`. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[depth]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      // Keys come from event data and may be `__proto__`: defined, never assigned through a prototype.
      setOwn(out, key, isSecretName(key) && v !== null && v !== undefined ? '[redacted]' : redact(v, depth + 1));
    }
    return out;
  }
  return value;
}

/**
 * A URL with its credentials masked: the password of its user info, and the values of query
 * parameters with a secret-looking name (`?token=…`, `?api_key=…`). Anything else, and anything
 * that is not a URL, is left as it is.
 */
export function redactUrl(value: string): string {
  return maskUrl(value) ?? value;
}

/** Whether `redactUrl` masks something in a URL: a hook's URL is then sealed at rest as a whole. */
export function hasUrlCredentials(value: string): boolean {
  return maskUrl(value) !== undefined;
}

/** The URL with its credentials masked, or `undefined` when it carries none (or is no URL). */
function maskUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  let changed = false;
  if (url.password) {
    url.password = 'redacted';
    changed = true;
  }
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (isSecretName(name)) {
      url.searchParams.set(name, 'redacted');
      changed = true;
    }
  }
  return changed ? url.toString() : undefined;
}

/**
 * A hook's config as a reader without the right to its secrets sees it: `redact`, and its `url` by
 * `redactUrl`. A URL sealed at rest (it carried credentials; a deleted hook is redacted as stored)
 * is masked whole: its ciphertext is no one's business either.
 */
export function redactConfig(config: object): Record<string, unknown> {
  const out = redact(config) as Record<string, unknown>;
  if (typeof out.url === 'string') out.url = isSealed(out.url) ? '[redacted]' : redactUrl(out.url);
  return out;
}

/** Fields of the invocation or request being served, added to every line written while it runs. */
const invocationFields = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs `fn` with `fields` on every log line it writes, however deep and through whatever awaits:
 * how a Lambda invocation's request id and cold-start flag reach lines written by the core.
 *
 * @example withLogContext({ aws_request_id: context.awsRequestId }, () => handle(event))
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return invocationFields.run({ ...invocationFields.getStore(), ...fields }, fn);
}

/**
 * Adds `fields` to every line written while `fn` runs, inside an invocation's context (on Lambda:
 * the tenant, event, hook and delivery a piece of work concerns). Outside one (the local runtime,
 * which adds no async context for the cost of it) it only runs `fn`: local lines name their hook,
 * event and delivery in their own fields.
 *
 * @example withLogFields({ tenant: job.tenant, hook_id: job.hookId, delivery_id: job.deliveryId }, () => deliver(job))
 */
export function withLogFields<T>(fields: Record<string, unknown>, fn: () => T): T {
  const current = invocationFields.getStore();
  return current === undefined ? fn() : invocationFields.run({ ...current, ...fields }, fn);
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? LEVELS.info;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = options.base ?? {};
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const entry = redact({
      time: new Date().toISOString(),
      level,
      message,
      ...invocationFields.getStore(),
      ...base,
      ...fields,
    });
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...options, base: { ...base, ...fields } }),
  };
}

/** A logger that keeps its lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}
