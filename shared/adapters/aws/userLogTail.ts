import { redact } from '../../logger.ts';

/** Most bytes of a user function's log tail kept per invocation (Lambda returns at most the last 4 KB). */
export const USER_LOG_TAIL_MAX_BYTES = 4096;

/** `key: value` / `key=value` / `"key":"value"` pairs whose key names a secret (as the logger's keys). */
const SECRET_PAIR =
  /(["']?[\w-]*(?:secret|password|authorization|signature|token|api[-_]?key|credential|cookie)[\w-]*["']?\s*[:=]\s*)((?:Bearer|Basic)\s+\S+|"[^"]*"|'[^']*'|[^\s,;}]+)/gi;
/** Bearer and Basic credentials anywhere in a line. */
const SCHEME_CREDENTIAL = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/**
 * The log tail Lambda returned for a user-code invocation (`LogType: Tail`: base64, the last 4 KB),
 * made fit for the service's own log: secret-looking values masked (JSON lines through the logger's
 * own `redact`, other lines by pattern), then cut to `maxBytes` from the end, where the newest lines are.
 * `undefined` when there is nothing to write.
 */
export function userLogTail(logResult: string | undefined, maxBytes = USER_LOG_TAIL_MAX_BYTES): string | undefined {
  if (!logResult) return undefined;
  const text = Buffer.from(logResult, 'base64').toString('utf8');
  const lines = text.split('\n').map(redactLine);
  let tail = lines.join('\n').trimEnd();
  if (tail === '') return undefined;
  const bytes = Buffer.from(tail, 'utf8');
  if (bytes.length > maxBytes) {
    // Cut on a character boundary: drop the bytes of a split character at the start.
    tail = `…${bytes
      .subarray(bytes.length - maxBytes)
      .toString('utf8')
      .replace(/^\uFFFD+/, '')}`;
  }
  return tail;
}

function redactLine(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.stringify(redact(JSON.parse(trimmed)));
    } catch {
      // not JSON after all: masked by pattern below
    }
  }
  return line.replace(SECRET_PAIR, '$1[redacted]').replace(SCHEME_CREDENTIAL, '$1 [redacted]');
}
