// `event-hooks deliveries …`: the delivery log (did my webhook get it, and what did it answer?).
import { client, table, UsageError } from './client.mjs';
import { printEntity } from './hooks.mjs';
import { common, parseDuration, printJson } from './options.mjs';

const time = (seconds) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : '');

const COLUMNS = [
  ['id', (d) => d.id],
  ['status', (d) => d.status],
  ['attempts', (d) => d.attempts],
  ['code', (d) => d.last_status_code],
  ['updated', (d) => time(d.updated_at)],
  ['event', (d) => d.event_id],
  ['last error', (d) => d.last_error],
];

const ATTEMPT_COLUMNS = [
  ['attempt', (a) => a.attempt],
  ['started', (a) => time(a.started_at)],
  ['latency ms', (a) => a.latency_ms],
  ['code', (a) => a.status_code],
  ['error', (a) => a.error],
  ['response', (a) => (typeof a.response_body === 'string' ? a.response_body.slice(0, 60) : '')],
];

/** ANSI colours per status; none unless stdout is a terminal, NO_COLOR is unset, and not --json. */
const COLOURS = { delivered: 32, retrying: 33, dead: 31, pending: 36 };

export function useColour(options, stream = process.stdout, env = process.env) {
  return Boolean(stream.isTTY) && !options.json && !env.NO_COLOR;
}

function paint(status, colour) {
  const code = COLOURS[status];
  return colour && code ? `\u001b[${code}m${status}\u001b[0m` : status;
}

/** One line of `tail`: time, status (coloured), delivery id, attempt, HTTP status, error. */
export function tailLine(d, colour) {
  // Receivers write the error text: no escape sequence of theirs reaches the terminal.
  const clean = (text) =>
    [...String(text)]
      .map((c) => (c.charCodeAt(0) <= 0x1f || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f) ? ' ' : c))
      .join('');
  const parts = [time(d.updated_at), paint(d.status, colour).padEnd(colour ? 18 : 9), d.id, `attempt ${d.attempts}`];
  if (d.last_status_code !== null && d.last_status_code !== undefined) parts.push(`HTTP ${d.last_status_code}`);
  if (d.last_error) parts.push(clean(d.last_error));
  return parts.join('  ');
}

function listPath(options) {
  const params = new URLSearchParams();
  if (options.status !== undefined) params.set('status', options.status);
  if (options.since !== undefined) params.set('since', options.since);
  params.set('size', String(Math.min(1000, options.limit)));
  return `/event-hooks/${encodeURIComponent(options.hook)}/deliveries?${params}`;
}

const positive = (text) => {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`'${text}' is not a positive integer`);
  return Number(text);
};

/** @param {import('commander').Command} program */
export function addDeliveryCommands(program) {
  const group = program
    .command('deliveries')
    .description("the delivery log: each delivery's attempts, replay, and following them live");

  common(
    group
      .command('list')
      .description('a hook’s deliveries, newest first')
      .requiredOption('--hook <id>', 'the hook')
      .option('--status <status>', 'only pending, delivered, retrying or dead')
      .option('--since <time>', 'created at or after: epoch seconds or an ISO-8601 date')
      .option('--limit <n>', 'at most this many (default 100)', positive, 100),
  ).action(async (options) => {
    const api = client(options);
    const items = [];
    let next = listPath(options);
    while (next && items.length < options.limit) {
      const { body } = await api.request('GET', next);
      items.push(...(body?.data ?? []));
      next = typeof body?.next === 'string' && body.next.startsWith('/') ? body.next : undefined;
    }
    const data = items.slice(0, options.limit);
    if (options.json) return printJson({ data });
    process.stdout.write(`${table(data, COLUMNS)}\n`);
  });

  common(group.command('get').description('one delivery and its attempts').argument('<id>')).action(
    async (id, options) => {
      const { body } = await client(options).request('GET', `/deliveries/${encodeURIComponent(id)}`);
      if (options.json) return printJson(body);
      const { attempts, ...summary } = body;
      printEntity(summary);
      process.stdout.write(`\n${table(attempts ?? [], ATTEMPT_COLUMNS)}\n`);
    },
  );

  common(
    group
      .command('replay')
      .description('deliver it again: the same delivery id, a fresh first attempt')
      .argument('<id>'),
  ).action(async (id, options) => {
    const { body } = await client(options).request('POST', `/deliveries/${encodeURIComponent(id)}/replay`);
    if (options.json) return printJson(body);
    const { attempts: _attempts, ...summary } = body;
    printEntity(summary);
  });

  common(
    group
      .command('health')
      .description('a hook’s health from its deliveries')
      .requiredOption('--hook <id>', 'the hook'),
  ).action(async (options) => {
    const { body } = await client(options).request('GET', `/event-hooks/${encodeURIComponent(options.hook)}/health`);
    return options.json ? printJson(body) : printEntity(body);
  });

  common(
    group
      .command('tail')
      .description('follow a hook’s deliveries live, one line per attempt (coloured on a terminal)')
      .requiredOption('--hook <id>', 'the hook')
      .option('--interval <duration>', 'how often to look (default 1s)', parseDuration, 1000)
      .option('--lines <n>', 'recent deliveries shown first (default 10)', (t) => (t === '0' ? 0 : positive(t)), 10)
      .option('--count <n>', 'stop after this many lines (default: follow until interrupted)', positive),
  ).action(async (options) => {
    const api = client(options);
    const colour = useColour(options);
    /** What was shown of each delivery: a line is printed when it changes (a new attempt, a new status). */
    const seen = new Map();
    let printed = 0;
    let first = true;
    const path = `/event-hooks/${encodeURIComponent(options.hook)}/deliveries?size=100`;
    for (;;) {
      // The newest 100 by creation: a bounded read per look, whatever the hook's history.
      const { body } = await api.request('GET', path);
      const changed = [];
      for (const d of body?.data ?? []) {
        const mark = `${d.status}/${d.attempts}/${d.updated_at}`;
        if (seen.get(d.id) === mark) continue;
        seen.set(d.id, mark);
        changed.push(d);
      }
      // Oldest first, as a log reads; at the start only the last `--lines`.
      changed.sort((a, b) => a.updated_at - b.updated_at);
      const show = first ? changed.slice(Math.max(0, changed.length - options.lines)) : changed;
      first = false;
      for (const d of show) {
        process.stdout.write(options.json ? `${JSON.stringify(d)}\n` : `${tailLine(d, colour)}\n`);
        if (options.count !== undefined && ++printed >= options.count) return;
      }
      await new Promise((resolve) => setTimeout(resolve, options.interval));
    }
  });
}
