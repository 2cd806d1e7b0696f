import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FuzzCase } from './corpus.ts';

export interface RawResponse {
  /** 0 when no status line arrived (timeout, reset before any answer). */
  status: number;
  body: string;
  ms: number;
  /** Why there is no status: `timeout`, or the socket error. */
  error?: string;
}

/**
 * Sends one fuzz case over a fresh TCP connection exactly as written: no URL normalisation (`..`
 * stays), no header validation beyond what HTTP/1.1 framing needs, `connection: close`, so the
 * response ends with the socket. fetch and node:http would refuse or rewrite many of these requests.
 */
export function sendRaw(port: number, c: FuzzCase, timeoutMs: number): Promise<RawResponse> {
  const started = performance.now();
  const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8');
  const lines = [`${c.method} ${c.target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close'];
  for (const [name, value] of c.headers) lines.push(`${name}: ${value}`);
  if (body !== undefined && !c.chunked) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  const payload = c.chunked
    ? // Chunked always ends with the last chunk, body or not, or the server rightly waits for more.
      Buffer.concat([
        head,
        ...(body && body.length > 0 ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')] : []),
        Buffer.from('0\r\n\r\n'),
      ])
    : body === undefined
      ? head
      : Buffer.concat([head, body]);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      let raw = Buffer.concat(chunks).toString('utf8');
      // Skip interim answers (`100 Continue` to `expect: 100-continue`).
      while (/^HTTP\/1\.[01] 1\d\d/.test(raw) && raw.includes('\r\n\r\n')) raw = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const split = raw.indexOf('\r\n\r\n');
      const head = split >= 0 ? raw.slice(0, split) : raw;
      const rest = split >= 0 ? raw.slice(split + 4) : '';
      resolve({
        status: match ? Number(match[1]) : 0,
        body: (/\r\ntransfer-encoding: *chunked/i.test(head) ? unchunk(rest) : rest).slice(0, 2000),
        ms: performance.now() - started,
        ...(match ? {} : { error: error ?? 'no response' }),
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A server may answer (413) and close before the whole body is written: what arrived counts.
    socket.on('error', (error) => finish(error.message));
    socket.write(payload);
  });
}

/** The body of a chunked response (lengths are in bytes; close enough for the short bodies reported). */
function unchunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    const data = Buffer.from(rest.slice(eol + 2), 'utf8');
    out += data.subarray(0, size).toString('utf8');
    rest = data.subarray(size + 2).toString('utf8');
  }
}
