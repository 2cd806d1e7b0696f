#!/usr/bin/env node
// The event-hooks command line: every command speaks the public Admin API of a running service (the
// local runtime by default). Plain JavaScript so `npx event-hooks` works without a build step.
//
// The parser is commander: the most used and longest kept Node argument parser, with no dependencies
// of its own, and it gives what a hand-written parser got wrong: `--help` on every command and
// group, `--version`, and unknown commands or options refused with the help text. citty and cac
// would do too; commander's nested command groups (`hooks list`) and its typed error codes (mapped
// to our exit codes below) decided it.
//
// Conventions every command follows (docs/cli.md):
//   --url   default $EVENT_HOOKS_URL, else http://127.0.0.1:$PORT, else http://127.0.0.1:8001
//   --key   default $EVENT_HOOKS_KEY, sent as `Authorization: Bearer <key>`
//   --json  machine output (the API's JSON); the default is a readable table
//   exit codes: 0 ok, 1 the service refused or failed (its message and fields printed), 2 usage error
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { addAsCodeCommands } from './lib/asCode.mjs';
import { client, describeError, ServiceError, UsageError } from './lib/client.mjs';
import { addDeadLetterCommands } from './lib/deadLetters.mjs';
import { addDeliveryCommands } from './lib/deliveries.mjs';
import { addEventCommands } from './lib/events.mjs';
import { addHookCommands } from './lib/hooks.mjs';
import { common, parseJson } from './lib/options.mjs';
import { addSourceCommands } from './lib/sources.mjs';
import { addKeyCommands, addTenantCommands } from './lib/tenants.mjs';
import { addWatchKongCommand } from './lib/watchKong.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const program = new Command('event-hooks')
  .description("Kong Gateway's Event Hooks as a service: manage hooks, replay dead letters, send events.")
  .version(pkg.version, '-V, --version', 'print the version')
  .helpOption('-h, --help', 'print help for this command')
  .exitOverride()
  .showHelpAfterError()
  .configureHelp({ styleTitle: (title) => title.toLowerCase() })
  .addHelpText(
    'after',
    `
usage: event-hooks emit <source> <event> '<json data>'     send one event
       event-hooks hooks list                                 the hooks, as a table
       event-hooks dead-letters replay --all                  replay every dead letter
       event-hooks events get <id>                            what became of one event, per hook
       event-hooks apply -f hooks.yaml [--dry-run] [--prune]  hooks as code (export writes the file)
       event-hooks <command> --help                           one command's options

examples:
  event-hooks emit crud consumers:create '{"operation":"create","entity":{"username":"jane"}}'
  event-hooks hooks create --source crud --event consumers --handler webhook --config-json '{"url":"https://example.com/hook"}'`,
  );

common(
  program
    .command('emit')
    .description('send one event to POST /events and print the accepted event (id, time) as JSON')
    .argument('<source>', 'the event source, e.g. crud')
    .argument('<event>', 'the event, e.g. consumers:create')
    .argument('[data]', 'the event data as JSON', '{}')
    .option('--id <id>', "the event's own id: an event whose source and id were accepted before is not sent again"),
).action(async (source, event, data, options) => {
  const body = { source, event, data: parseJson(data, 'the data') };
  if (options.id !== undefined) body.id = options.id;
  const { text } = await client(options).request('POST', '/events', body);
  process.stdout.write(`${text}\n`);
});

addHookCommands(program);
addDeliveryCommands(program);
addDeadLetterCommands(program);
addEventCommands(program);
addSourceCommands(program);
addTenantCommands(program);
addKeyCommands(program);
addWatchKongCommand(program);
addAsCodeCommands(program);

// `event-hooks list` is what a new user types first; commander's own suggestion compares only the
// top-level names, so point at the groups that have such a subcommand (`hooks list`, `sources list`…).
program.on('command:*', ([name]) => {
  const groups = program.commands.filter((group) => group.commands.some((command) => command.name() === name));
  // Anything else gets commander's own message, with its suggestion of a close name (`emitt` → emit).
  if (groups.length === 0) return program.unknownCommand();
  const hint = groups.map((group) => `'${group.name()} ${name}'`).join(', ');
  program.error(`error: unknown command '${name}' (did you mean ${hint}?)`, {
    code: 'commander.unknownCommand',
    exitCode: 2,
  });
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end with code 0; any parse error (unknown command or option, missing
    // argument, a group without its subcommand) is a usage error: 2, with the help already printed.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof ServiceError) {
    // With --json the refusal is machine output too: Kong's body fields, on stderr.
    const { status, message, fields } = error;
    const json = process.argv.includes('--json')
      ? JSON.stringify({ status, message, ...(fields ? { fields } : {}) })
      : undefined;
    process.stderr.write(`${json ?? describeError(error)}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
