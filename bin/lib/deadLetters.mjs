// `event-hooks dead-letters …`: deliveries that failed for good, and replaying them.
import { client, ServiceError, table, UsageError } from './client.mjs';
import { printEntity } from './hooks.mjs';
import { common, printJson } from './options.mjs';

const COLUMNS = [
  ['id', (d) => d.id],
  ['hook', (d) => d.hook_id],
  ['event', (d) => `${d.event?.source}/${d.event?.event}`],
  ['attempts', (d) => d.attempts],
  [
    'dead since',
    (d) => (typeof d.dead_lettered_at === 'number' ? new Date(d.dead_lettered_at * 1000).toISOString() : ''),
  ],
  ['reason', (d) => d.reason],
];

/** @param {import('commander').Command} program */
export function addDeadLetterCommands(program) {
  const group = program.command('dead-letters').description('deliveries that failed for good, and replaying them');

  common(group.command('list').description('every dead letter (all pages)')).action(async (options) => {
    const all = await client(options).all('/dead-letters');
    if (options.json) return printJson({ data: all });
    process.stdout.write(`${table(all, COLUMNS)}\n`);
  });

  common(
    group
      .command('replay')
      .description('deliver a dead letter again: one by id, or every one with --all')
      .argument('[id]')
      .option('--all', 'replay every dead letter'),
  ).action(async (id, options) => {
    if ((id === undefined) === (options.all === undefined)) throw new UsageError('give a dead letter id or --all');
    const api = client(options);
    if (id !== undefined) {
      const { body } = await api.request('POST', `/dead-letters/${encodeURIComponent(id)}/replay`);
      return options.json ? printJson(body) : printEntity(body);
    }
    // Ids first, then replays: a replay removes its entry, which would shift the pages under a cursor.
    const ids = (await api.all('/dead-letters')).map((d) => d.id);
    const tty = process.stderr.isTTY && !options.json;
    let done = 0;
    for (const each of ids) {
      await replayPaced(api, each);
      done++;
      if (options.json) process.stdout.write(`${JSON.stringify({ replayed: each })}\n`);
      else if (tty) process.stderr.write(`\rreplaying ${progressBar(done, ids.length)} ${done}/${ids.length}`);
      else process.stdout.write(`replayed ${each}\n`);
    }
    if (tty) process.stderr.write('\n');
    if (!options.json) process.stdout.write(`replayed ${done} dead letter${done === 1 ? '' : 's'}\n`);
  });
}

/**
 * Replays count against the tenant's events per second: past it the service answers 429 (Retry-After:
 * 1, nothing replayed), so a replay of every dead letter waits out the second and goes on.
 */
async function replayPaced(api, id) {
  for (;;) {
    try {
      return await api.request('POST', `/dead-letters/${encodeURIComponent(id)}/replay`);
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status !== 429) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

function progressBar(done, total, width = 30) {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
