// `event-hooks events …`: what became of one event, per hook ("why didn't my hook fire?").
import { client, table } from './client.mjs';
import { common, printJson } from './options.mjs';

const HOOK_COLUMNS = [
  ['hook', (h) => h.hook_id],
  ['outcome', (h) => h.outcome],
  ['delivery', (h) => h.delivery_id ?? ''],
];

/** The event's own fields as FIELD/VALUE rows; data not kept (over 1 KB without body capture) says so. */
function eventRows(event) {
  const data =
    event.data === null
      ? `(not kept: ${event.data_bytes} bytes, over 1 KB with body capture off)`
      : JSON.stringify(event.data);
  return [
    ['id', event.id],
    ['time', event.time],
    ['source', event.source],
    ['event', event.event],
    ['dispatched', typeof event.dispatched_at === 'number' ? new Date(event.dispatched_at * 1000).toISOString() : ''],
    ['data', data],
  ].map(([key, value]) => ({ key, value }));
}

/** @param {import('commander').Command} program */
export function addEventCommands(program) {
  const group = program.command('events').description('events the service received, and what became of each');

  common(
    group
      .command('get')
      .description('one event and its outcome per hook: queued, suppressed:snooze, filtered, disabled…')
      .argument('<id>', 'the event id POST /events answered'),
  ).action(async (id, options) => {
    const { body } = await client(options).request('GET', `/events/${encodeURIComponent(id)}`);
    if (options.json) return printJson(body);
    const fields = table(eventRows(body), [
      ['field', (r) => r.key],
      ['value', (r) => r.value],
    ]);
    const hooks = body.hooks.length > 0 ? table(body.hooks, HOOK_COLUMNS) : 'no hook matched this event';
    process.stdout.write(`${fields}\n\n${hooks}\n`);
  });
}
