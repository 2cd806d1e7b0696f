// Hooks as code: `apply -f hooks.yaml`, `diff -f hooks.yaml`, `export`, and `import --from-kong`
// (docs/rules.md#hooks-as-code, docs/migrating-from-kong.md).
import { writeFileSync } from 'node:fs';
import { client } from './client.mjs';
import { exportable, formatHooks, kongShape, readHooksFile, resolveReferences } from './hooksFile.mjs';
import { importOptions, kongHooks } from './importKong.mjs';
import { common, printJson } from './options.mjs';
import { changesAnything, executePlan, makePlan, planJson, planText, RefusedHookError } from './plan.mjs';

/**
 * Plans the hooks and, unless `dryRun`, writes the plan: the one path of `apply`, `diff` and
 * `import`. A refused hook stops everything before the first write, saying which hook it was.
 */
async function planAndApply(hooks, options, { source, dryRun, prune = false, references = true }) {
  const api = client(options);
  let steps;
  try {
    steps = await makePlan(api, references ? resolveReferences(hooks) : hooks, { prune });
  } catch (error) {
    if (error instanceof RefusedHookError)
      process.stderr.write(`${source}: hook ${error.index + 1} (${error.id}) was refused; nothing was written\n`);
    throw error;
  }
  const write = !dryRun && changesAnything(steps);
  const written = [];
  try {
    if (write) await executePlan(api, steps, (step) => written.push(step));
  } catch (error) {
    // The service changed (or went away) between the plan and the writes: say what was written.
    const past = { create: 'created', update: 'updated', delete: 'deleted' };
    for (const step of written) process.stderr.write(`${past[step.action]} ${step.id}\n`);
    process.stderr.write(
      `${source}: stopped after ${written.length} of ${steps.filter((s) => past[s.action]).length} changes\n`,
    );
    throw error;
  }
  if (options.json) return printJson(planJson(steps, { applied: write }));
  process.stdout.write(planText(steps, { applied: write }));
  if (dryRun && changesAnything(steps)) process.stdout.write('dry run: nothing was written\n');
}

/** @param {import('commander').Command} program */
export function addAsCodeCommands(program) {
  common(
    program
      .command('apply')
      .description('create or update every hook of a file by its id (YAML or JSON, as export writes it)')
      .requiredOption('-f, --file <file>', 'the hooks file (- for stdin)')
      .option('--dry-run', 'print the plan, write nothing')
      .option('--prune', 'also delete the hooks that are not in the file'),
  ).action(async (options) => {
    const hooks = readHooksFile(options.file);
    await planAndApply(hooks, options, { source: options.file, dryRun: options.dryRun, prune: options.prune });
  });

  common(
    program
      .command('diff')
      .description('print what apply -f would change (create, update with the fields, unchanged, delete)')
      .requiredOption('-f, --file <file>', 'the hooks file (- for stdin)')
      .option('--prune', 'plan the deletion of hooks that are not in the file'),
  ).action(async (options) => {
    const hooks = readHooksFile(options.file);
    await planAndApply(hooks, options, { source: options.file, dryRun: true, prune: options.prune });
  });

  common(
    program
      .command('export')
      .description('write every hook as a file apply reads (YAML; --json for JSON), secrets as environment references')
      .option('-o, --output <file>', 'write to this file instead of stdout')
      .option('--kong', "Kong's entity shape only (no enabled, filter, threshold, config.signing), to go back to Kong")
      .option('--show-secrets', 'write the secrets themselves instead of references'),
  ).action(async (options) => {
    const all = await client(options).all('/event-hooks');
    const { hooks, variables } = exportable(all, { showSecrets: options.showSecrets });
    let out = hooks;
    if (options.kong) {
      const kong = kongShape(hooks);
      out = kong.hooks;
      for (const note of kong.notes) process.stderr.write(`note: ${note}\n`);
    }
    const text = formatHooks(out, options.json);
    if (options.output === undefined) process.stdout.write(text);
    else writeFileSync(options.output, text, { mode: 0o600 });
    // Which variables apply will read: on stderr, so stdout stays the file.
    if (variables.length > 0) process.stderr.write(`secrets are references; apply reads: ${variables.join(', ')}\n`);
  });

  importOptions(
    common(
      program
        .command('import')
        .description("copy the event hooks of a Kong Admin API here, keeping ids and created_at (through apply's plan)")
        .requiredOption('--from-kong <url>', "Kong's Admin API, e.g. http://kong:8001")
        .option('--dry-run', 'print the plan, write nothing'),
    ),
  ).action(async (options) => {
    const hooks = await kongHooks(options);
    await planAndApply(hooks, options, {
      source: options.fromKong,
      dryRun: options.dryRun,
      // Kong's values are the values: a `${…}` in them is not a reference to this environment.
      references: false,
    });
  });
}
