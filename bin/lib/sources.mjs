// `event-hooks sources …`: the catalog of sources and events, and user-defined ones.
import { client, table, UsageError } from './client.mjs';
import { bodyFrom, common, printJson } from './options.mjs';

/** The catalog (`{source: {event: {fields, description, unique}}}`) as one row per event. */
function rows(catalog) {
  const out = [];
  for (const [source, events] of Object.entries(catalog ?? {})) {
    for (const [event, spec] of Object.entries(events ?? {})) out.push({ source, event, ...(spec ?? {}) });
  }
  return out;
}

/** @param {import('commander').Command} program */
export function addSourceCommands(program) {
  const group = program.command('sources').description('the sources and events hooks can subscribe to');

  common(group.command('list').description('every source and event (built-in and your own)')).action(
    async (options) => {
      const { body } = await client(options).request('GET', '/event-hooks/sources');
      if (options.json) return printJson(body);
      const columns = [
        ['source', (r) => r.source],
        ['event', (r) => r.event],
        ['fields', (r) => (Array.isArray(r.fields) ? r.fields.join(',') : '')],
        ['description', (r) => r.description],
      ];
      process.stdout.write(`${table(rows(body?.data), columns)}\n`);
    },
  );

  common(
    group
      .command('put')
      .description('define (or redefine) your own event')
      .argument('<source>')
      .argument('<event>')
      .option('--file <file>', 'the definition as a JSON file (- for stdin)')
      .option('--data <json>', 'the definition as JSON, e.g. {"fields":["customer"]}')
      .option('--fields <list>', 'comma-separated field names')
      .option('--unique <list>', 'comma-separated fields that make an event unique (for snooze)')
      .option('--description <text>', 'what the event means'),
  ).action(async (source, event, options) => {
    const body = bodyFrom(options);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new UsageError('the definition must be a JSON object');
    const list = (text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    if (options.fields !== undefined) body.fields = list(options.fields);
    if (options.unique !== undefined) body.unique = list(options.unique);
    if (options.description !== undefined) body.description = options.description;
    const path = `/event-hooks/sources/${encodeURIComponent(source)}/${encodeURIComponent(event)}`;
    const { body: answer } = await client(options).request('PUT', path, body);
    if (options.json) return printJson(answer);
    process.stdout.write(`defined ${source}/${event}\n`);
  });

  common(group.command('delete').description('remove your own event').argument('<source>').argument('<event>')).action(
    async (source, event, options) => {
      const path = `/event-hooks/sources/${encodeURIComponent(source)}/${encodeURIComponent(event)}`;
      await client(options).request('DELETE', path);
      if (options.json) return printJson({ deleted: `${source}/${event}` });
      process.stdout.write(`deleted ${source}/${event}\n`);
    },
  );
}
