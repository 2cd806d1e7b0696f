// `event-hooks tenants …` and `event-hooks keys …`: the operator's routes (docs/saas.md). They need
// the operator's key (`--key` or EVENT_HOOKS_KEY = the service's OPERATOR_KEY).
import { client, table } from './client.mjs';
import { printEntity } from './hooks.mjs';
import { common, printJson } from './options.mjs';

const SCOPES = ['admin', 'ingest', 'read'];
const when = (seconds) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : '');
const path = (...parts) => parts.map((part) => `/${encodeURIComponent(part)}`).join('');

/** @param {import('commander').Command} program */
export function addTenantCommands(program) {
  const group = program.command('tenants').description("the deployment's tenants (operator key; AUTH_MODE=api-keys)");

  common(group.command('create').description('add a tenant; prints its id').argument('<name>')).action(
    async (name, options) => {
      const { body } = await client(options).request('POST', '/tenants', { name });
      return options.json ? printJson(body) : printEntity(body);
    },
  );

  common(group.command('list').description('every tenant')).action(async (options) => {
    const all = await client(options).all('/tenants');
    if (options.json) return printJson({ data: all });
    const columns = [
      ['id', (t) => t.id],
      ['name', (t) => t.name],
      ['created', (t) => when(t.created_at)],
    ];
    process.stdout.write(`${table(all, columns)}\n`);
  });

  common(group.command('get').description('one tenant').argument('<id>')).action(async (id, options) => {
    const { body } = await client(options).request('GET', path('tenants', id));
    return options.json ? printJson(body) : printEntity(body);
  });

  common(
    group
      .command('delete')
      .description('delete a tenant with everything it owns: hooks, functions, sources, dead letters, keys')
      .argument('<id>'),
  ).action(async (id, options) => {
    await client(options).request('DELETE', path('tenants', id));
    if (options.json) return printJson({ deleted: id });
    process.stdout.write(`deleted tenant ${id}\n`);
  });
}

/** @param {import('commander').Command} program */
export function addKeyCommands(program) {
  const group = program.command('keys').description("a tenant's API keys (operator key; AUTH_MODE=api-keys)");
  const collect = (value, previous) => [...(previous ?? []), value];

  common(
    group
      .command('create')
      .description('mint a key for a tenant; the key is printed this once')
      .requiredOption('--tenant <id>', 'the tenant')
      .requiredOption('--scope <scope>', `one of ${SCOPES.join(', ')}; repeat for more`, collect),
  ).action(async (options) => {
    const { body } = await client(options).request('POST', path('tenants', options.tenant, 'keys'), {
      scopes: options.scope,
    });
    if (options.json) return printJson(body);
    printEntity(body);
    process.stderr.write('the key is shown only now: store it (e.g. in EVENT_HOOKS_KEY)\n');
  });

  common(
    group.command('list').description("a tenant's keys, never their secret").requiredOption('--tenant <id>'),
  ).action(async (options) => {
    const all = await client(options).all(path('tenants', options.tenant, 'keys'));
    if (options.json) return printJson({ data: all });
    const columns = [
      ['id', (k) => k.id],
      ['prefix', (k) => k.prefix],
      ['scopes', (k) => (k.scopes ?? []).join(',')],
      ['created', (k) => when(k.created_at)],
      ['revoked', (k) => when(k.revoked_at)],
    ];
    process.stdout.write(`${table(all, columns)}\n`);
  });

  common(
    group
      .command('revoke')
      .description('revoke a key: it stops working at once')
      .requiredOption('--tenant <id>')
      .argument('<key_id>'),
  ).action(async (keyId, options) => {
    await client(options).request('DELETE', path('tenants', options.tenant, 'keys', keyId));
    if (options.json) return printJson({ revoked: keyId });
    process.stdout.write(`revoked key ${keyId}\n`);
  });
}
