// The Admin API client every command shares: where the service is, how to authenticate, and how a
// refusal becomes exit code 1 with Kong's message and fields.

/** The service refused or failed a request (exit code 1). */
export class ServiceError extends Error {
  /** @param {number} status @param {string} message @param {Record<string, unknown> | undefined} fields */
  constructor(status, message, fields) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

/** The command line was wrong in a way the parser cannot see, e.g. bad JSON (exit code 2). */
export class UsageError extends Error {}

/**
 * The base URL: `--url`, else `EVENT_HOOKS_URL`, else the local runtime on `PORT` (as `npm start`
 * reads it), else Kong's Admin API port 8001.
 * @param {string | undefined} flag
 */
export function baseUrl(flag, env = process.env) {
  const url = flag ?? env.EVENT_HOOKS_URL ?? `http://127.0.0.1:${env.PORT || 8001}`;
  return url.replace(/\/+$/, '');
}

/**
 * A client bound to one base URL and key (`--key`, else `EVENT_HOOKS_KEY`, sent as a bearer token),
 * or, with `--aws`, signing each request with the caller's AWS credentials (an IAM deployment).
 * @param {{ url?: string, key?: string, aws?: boolean, region?: string }} options
 */
export function client(options, env = process.env) {
  const base = baseUrl(options.url, env);
  if (options.aws && options.key !== undefined) throw new UsageError('give --aws or --key, not both');
  // A key in the environment is for api-keys deployments; --aws says this one signs instead.
  const key = options.aws ? undefined : (options.key ?? env.EVENT_HOOKS_KEY);
  /** @type {Promise<(request: { method: string, url: URL, headers: Record<string, string>, body?: string }) => Promise<Record<string, string>>> | undefined} */
  let signer;
  const sign = (request) => {
    signer ??= import('./awsSigner.mjs').then((m) => {
      const region = m.signingRegion(options.region, base, env);
      if (!region) throw new UsageError('--aws needs a region: give --region or set AWS_REGION');
      return m.awsSigner({ region });
    });
    return signer.then((s) => s(request));
  };
  /**
   * @param {string} method @param {string} path @param {unknown} [body]
   * @param {Record<string, string>} [headers]
   * @returns {Promise<{ status: number, body: any, text: string }>}
   */
  async function request(method, path, body, headers = {}) {
    const url = `${base}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let sent = {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    };
    if (options.aws) {
      try {
        sent = await sign({
          method,
          url: new URL(url),
          headers: sent,
          ...(payload === undefined ? {} : { body: payload }),
        });
      } catch (error) {
        if (error instanceof UsageError) throw error;
        throw new ServiceError(
          0,
          `cannot sign the request with AWS credentials: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: sent,
        ...(payload === undefined ? {} : { body: payload }),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new ServiceError(0, `cannot reach ${base}: ${cause} (is the service running? try: npm start)`);
    }
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400) {
      const message = typeof parsed?.message === 'string' ? parsed.message : text || res.statusText;
      throw new ServiceError(res.status, message, parsed?.fields);
    }
    return { status: res.status, body: parsed, text };
  }

  /** Every item of a paged collection (`{data, next}`), following `next` to the end. */
  async function all(path) {
    const items = [];
    let next = path;
    for (let pages = 0; next && pages < 10_000; pages++) {
      const { body } = await request('GET', next);
      items.push(...(body?.data ?? []));
      // `next` is a path on the service, like `/event-hooks?offset=…` (Kong's shape); it is
      // requested under the base URL, which may carry a stage prefix such as `/prod`.
      next = typeof body?.next === 'string' && body.next.startsWith('/') ? body.next : undefined;
    }
    return items;
  }

  return { base, request, all };
}

/** One error line for a refusal: `400: message` then Kong's fields, flattened on the same line. */
export function describeError(error) {
  if (!(error instanceof ServiceError)) return String(error instanceof Error ? error.message : error);
  if (error.status === 0) return error.message;
  const fields = error.fields ? flatten(error.fields) : [];
  // Kong's schema violation message already lists every field error: not said twice.
  const said = fields.every(([, v]) => error.message.includes(v));
  const detail = fields.length > 0 && !said ? ` (${fields.map(([k, v]) => `${k}: ${v}`).join('; ')})` : '';
  return `${error.status}: ${error.message}${detail}`;
}

/** `{a: {b: 1}}` → `[['a.b', '1']]`, the dotted keys Kong's form bodies use. */
export function flatten(value, prefix = '') {
  if (
    value === null ||
    typeof value !== 'object' ||
    (Array.isArray(value) && value.every((v) => typeof v !== 'object'))
  ) {
    return [[prefix, Array.isArray(value) ? value.join(',') : String(value)]];
  }
  const rows = [];
  for (const [key, inner] of Object.entries(value)) rows.push(...flatten(inner, prefix ? `${prefix}.${key}` : key));
  return rows.length > 0 ? rows : [[prefix, Array.isArray(value) ? '[]' : '{}']];
}

const SECRET_KEYS = new Set(['secret', 'previous_secret']);

/** A copy with every `secret` / `previous_secret` replaced, unless `--show-secrets` (issue 15). */
export function redact(value, show) {
  if (show || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, show));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) && v != null ? '********' : redact(v, show)]),
  );
}

/** A plain text table: a header row, then one row per item; cells are single-line text. */
export function table(rows, columns) {
  const cell = (v) =>
    (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v))
      .replace(/\s+/g, ' ')
      // Receivers and producers write this data: no escape sequence reaches the terminal.
      .split('')
      .filter((c) => c.charCodeAt(0) > 0x1f && (c.charCodeAt(0) < 0x7f || c.charCodeAt(0) > 0x9f))
      .join('');
  const cells = rows.map((row) => columns.map(([, pick]) => cell(pick(row))));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([title]) => title.toUpperCase())), ...cells.map(line)].join('\n');
}
