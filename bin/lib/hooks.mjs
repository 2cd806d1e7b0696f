// `event-hooks hooks …`: the /event-hooks collection of the Admin API.
import { client, flatten, redact, table, UsageError } from './client.mjs';
import { bodyFrom, common, parseJson, printJson } from './options.mjs';

const HOOK_COLUMNS = [
  ['id', (h) => h.id],
  ['source', (h) => h.source],
  ['event', (h) => h.event],
  ['handler', (h) => h.handler],
  ['snooze', (h) => h.snooze],
  ['url', (h) => h.config?.url],
];

/** One entity as `key  value` rows (nested keys dotted, as Kong's form bodies write them). */
export function printEntity(entity) {
  const rows = flatten(entity).map(([key, value]) => ({ key, value }));
  process.stdout.write(
    `${table(rows, [
      ['field', (r) => r.key],
      ['value', (r) => r.value],
    ])}\n`,
  );
}

/** The hook body from --file/--data, then the flags on top (a flag wins over the same key in the body). */
function hookBody(options) {
  const body = bodyFrom(options);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new UsageError('the hook must be a JSON object');
  for (const key of ['source', 'event', 'handler']) if (options[key] !== undefined) body[key] = options[key];
  if (options.configJson !== undefined) body.config = parseJson(options.configJson, '--config-json');
  // Not a number: sent as given, so that the service answers with Kong's own field error.
  if (options.snooze !== undefined)
    body.snooze = /^\d+$/.test(options.snooze) ? Number(options.snooze) : options.snooze;
  if (options.onChange !== undefined) body.on_change = options.onChange;
  return body;
}

function bodyOptions(command) {
  return command
    .option('--file <file>', 'the hook as a JSON file (- for stdin)')
    .option('--data <json>', 'the hook as JSON')
    .option('--source <source>', 'the source, e.g. crud')
    .option('--event <event>', 'the event, e.g. consumers')
    .option('--handler <handler>', 'webhook, webhook-custom, log or lambda')
    .option('--config-json <json>', "the handler's config as JSON")
    .option('--snooze <seconds>', 'suppress repeats for this many seconds')
    .option('--on-change', 'run only when the data changed')
    .option('--no-on-change', 'run on every event')
    .option('--show-secrets', 'show config.secret and previous_secret (hidden by default)');
}

/** @param {import('commander').Command} program */
export function addHookCommands(program) {
  const hooks = program.command('hooks').description('list, read, create, change, try and remove hooks');

  common(hooks.command('list').description('every hook (all pages)'))
    .option('--show-secrets', 'show config.secret and previous_secret (hidden by default)')
    .action(async (options) => {
      const all = redact(await client(options).all('/event-hooks'), options.showSecrets);
      if (options.json) return printJson({ data: all });
      process.stdout.write(`${table(all, HOOK_COLUMNS)}\n`);
    });

  common(hooks.command('get').description('one hook').argument('<id>'))
    .option('--show-secrets', 'show config.secret and previous_secret (hidden by default)')
    .action(async (id, options) => {
      const { body } = await client(options).request('GET', `/event-hooks/${encodeURIComponent(id)}`);
      const hook = redact(body, options.showSecrets);
      return options.json ? printJson(hook) : printEntity(hook);
    });

  common(bodyOptions(hooks.command('create').description('create a hook (POST /event-hooks)'))).action(
    async (options) => {
      const { body } = await client(options).request('POST', '/event-hooks', hookBody(options));
      const hook = redact(body, options.showSecrets);
      return options.json ? printJson(hook) : printEntity(hook);
    },
  );

  common(bodyOptions(hooks.command('update').description('change fields of a hook (PATCH)').argument('<id>'))).action(
    async (id, options) => {
      const path = `/event-hooks/${encodeURIComponent(id)}`;
      const { body } = await client(options).request('PATCH', path, hookBody(options));
      const hook = redact(body, options.showSecrets);
      return options.json ? printJson(hook) : printEntity(hook);
    },
  );

  common(hooks.command('delete').description('remove a hook').argument('<id>')).action(async (id, options) => {
    await client(options).request('DELETE', `/event-hooks/${encodeURIComponent(id)}`);
    if (options.json) return printJson({ deleted: id });
    process.stdout.write(`deleted ${id}\n`);
  });

  common(
    hooks
      .command('test')
      .description('run a hook once on the given event data (POST /event-hooks/{id}/test)')
      .argument('<id>')
      .argument('[data]', 'the event data as JSON', '{}'),
  ).action(async (id, data, options) => {
    const path = `/event-hooks/${encodeURIComponent(id)}/test`;
    const { body } = await client(options).request('POST', path, parseJson(data, 'the data'));
    return options.json ? printJson(body) : printEntity(body ?? {});
  });

  common(
    hooks
      .command('ping')
      .description("ping a webhook's receiver")
      .argument('<id>')
      .option('--show-secrets', 'show the hook secret the ping body carries'),
  ).action(async (id, options) => {
    const { body } = await client(options).request('GET', `/event-hooks/${encodeURIComponent(id)}/ping`);
    // The ping body carries the hook as sent to the receiver, secret included.
    const shown = redact(body ?? {}, options.showSecrets);
    return options.json ? printJson(shown) : printEntity(shown);
  });
}
