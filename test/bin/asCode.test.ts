import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HooksFile } from '../../shared/hooks/hooksFileSchema.ts';
import { cli, useCliRuntime } from './cliRun.ts';

// Hooks as code, end to end: the real bin in a child process against the local runtime.
describe('event-hooks apply, diff and export', () => {
  const rt = useCliRuntime('eh-as-code-');

  const ids = {
    slack: '11111111-1111-4111-8111-111111111111',
    log: '22222222-2222-4222-8222-222222222222',
    rate: '33333333-3333-4333-8333-333333333333',
  };

  /** Every hook the service has, by id. */
  async function stored(): Promise<Record<string, Record<string, unknown>>> {
    const res = await rt.t.request('GET', '/event-hooks?size=1000');
    return Object.fromEntries(res.body.data.map((h: { id: string }) => [h.id, h]));
  }

  async function clear() {
    for (const id of Object.keys(await stored())) await rt.t.request('DELETE', `/event-hooks/${id}`);
  }

  const yamlFile = () => `# yaml-language-server: $schema=../schemas/hooks-file.schema.json
- id: ${ids.slack}
  source: crud
  event: consumers
  handler: webhook
  config:
    url: ${rt.receiver.url}/slack
    secret: \${SLACK_SECRET}
- id: ${ids.log}
  source: crud
  event: consumers:delete
  handler: log
  filter:
    entity:
      username: [{ prefix: svc- }]
- id: ${ids.rate}
  source: rate-limiting-advanced
  event: rate-limit-exceeded
  handler: log
  threshold: { count: 100, window: 300 }
`;

  async function write(name: string, text: string) {
    const file = join(rt.dir, name);
    await writeFile(file, text);
    return file;
  }

  beforeEach(clear);

  it('creates every hook of a YAML file, secrets from the environment; a second apply changes nothing and says so', async () => {
    const file = await write('hooks.yaml', yamlFile());
    const first = await cli(['apply', '-f', file], { ...rt.env, SLACK_SECRET: 'hunter2' });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(`+ created ${ids.slack}  crud/consumers webhook`);
    expect(first.stdout).toMatch(/applied: 3 created, 0 updated, 0 unchanged, 0 deleted/);
    const hooks = await stored();
    expect(hooks[ids.slack]).toMatchObject({ config: { secret: 'hunter2', url: `${rt.receiver.url}/slack` } });
    expect(hooks[ids.log]).toMatchObject({ filter: { entity: { username: [{ prefix: 'svc-' }] } } });
    expect(hooks[ids.rate]).toMatchObject({ threshold: { count: 100, window: 300 } });

    const second = await cli(['apply', '-f', file], { ...rt.env, SLACK_SECRET: 'hunter2' });
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(second.stdout).toMatch(/^no changes: 3 hooks unchanged$/m);
    expect(second.stdout).not.toMatch(/created|updated/);
    expect(await stored()).toEqual(hooks);

    const json = await cli(['apply', '-f', file, '--json'], { ...rt.env, SLACK_SECRET: 'hunter2' });
    expect(JSON.parse(json.stdout)).toMatchObject({ applied: false, changed: false });
  });

  it('keeps a stored secret the file leaves out: a generated Standard Webhooks secret is not replaced on every apply', async () => {
    const file = await write(
      'generated.yaml',
      `- id: ${ids.slack}\n  source: crud\n  handler: webhook\n  config:\n    url: ${rt.receiver.url}/gen\n    signing: standard-webhooks\n`,
    );
    expect((await cli(['apply', '-f', file], rt.env)).code).toBe(0);
    const generated = (await stored())[ids.slack]?.config as { secret: string };
    expect(generated.secret).toMatch(/^whsec_/);
    const again = await cli(['apply', '-f', file], rt.env);
    expect(again.stdout).toMatch(/^no changes: 1 hook unchanged$/m);
    expect((await stored())[ids.slack]?.config).toMatchObject({ secret: generated.secret });
    // `secret: null` in the file is a change: it removes the secret (Kong signing, no signature).
    const none = await write(
      'none.yaml',
      `- id: ${ids.slack}\n  source: crud\n  handler: webhook\n  config:\n    url: ${rt.receiver.url}/gen\n    secret: null\n`,
    );
    const removed = await cli(['apply', '-f', none], rt.env);
    expect(removed.stdout).toMatch(/config\.secret: set → null/);
    expect((await stored())[ids.slack]?.config).toMatchObject({ secret: null });
  });

  it('diff and --dry-run print the changed fields, secrets hidden, and write nothing', async () => {
    const file = await write('hooks.yaml', yamlFile());
    expect((await cli(['apply', '-f', file], { ...rt.env, SLACK_SECRET: 'hunter2' })).code).toBe(0);
    const before = await stored();
    const changed = await write(
      'changed.yaml',
      yamlFile().replace('handler: webhook', 'handler: webhook\n  snooze: 30').replace('count: 100', 'count: 50'),
    );
    for (const args of [
      ['diff', '-f', changed],
      ['apply', '-f', changed, '--dry-run'],
    ]) {
      const res = await cli(args, { ...rt.env, SLACK_SECRET: 'rotated-secret' });
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toMatch(`~ update ${ids.slack}`);
      expect(res.stdout).toMatch(/^ {4}snooze: null → 30$/m);
      expect(res.stdout).toMatch(/^ {4}config\.secret: \(changed\)$/m);
      expect(res.stdout).toMatch(/^ {4}threshold\.count: 100 → 50$/m);
      expect(res.stdout).toMatch(`= unchanged ${ids.log}`);
      expect(res.stdout).toMatch(/plan: 0 to create, 2 to update, 1 unchanged, 0 to delete/);
      expect(res.stdout).not.toMatch(/hunter2|rotated-secret/);
    }
    expect(await stored()).toEqual(before);
    const json = await cli(['diff', '-f', changed, '--json'], { ...rt.env, SLACK_SECRET: 'rotated-secret' });
    const plan = JSON.parse(json.stdout);
    expect(plan.steps[0]).toEqual({
      action: 'update',
      id: ids.slack,
      changes: [
        { field: 'config.secret', secret: true },
        { field: 'snooze', before: null, after: 30 },
      ],
    });
    expect(json.stdout).not.toMatch(/hunter2|rotated-secret/);
  });

  it('diff hides credential header values as it hides the secret, in text and JSON, a header added or changed', async () => {
    const id = '55555555-5555-4555-8555-555555555555';
    const put = await rt.t.request('PUT', `/event-hooks/${id}`, {
      source: 'crud',
      handler: 'webhook',
      config: { url: `${rt.receiver.url}/h`, headers: { Authorization: 'Bearer old-1a2b' } },
    });
    expect(put.status).toBe(200);
    const file = await write(
      'headers.yaml',
      `- id: ${id}
  source: crud
  handler: webhook
  config:
    url: ${rt.receiver.url}/h
    headers:
      Authorization: Bearer new-3c4d
      X-Api-Key: key-5e6f
      x-team: payments
`,
    );
    const text = await cli(['diff', '-f', file], rt.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {4}config\.headers\.Authorization: \(changed\)$/m);
    expect(text.stdout).toMatch(/^ {4}config\.headers\.X-Api-Key: absent → set$/m);
    expect(text.stdout).toMatch(/^ {4}config\.headers\.x-team: \(absent\) → "payments"$/m);
    const json = await cli(['diff', '-f', file, '--json'], rt.env);
    expect(JSON.parse(json.stdout).steps[0].changes).toContainEqual({
      field: 'config.headers.Authorization',
      secret: true,
    });
    for (const out of [text.stdout, json.stdout]) expect(out).not.toMatch(/old-1a2b|new-3c4d|key-5e6f/);
  });

  it('keeps hooks that are not in the file unless --prune, which deletes them', async () => {
    const extra = await rt.t.request('POST', '/event-hooks', { source: 'balancer', event: 'health', handler: 'log' });
    const file = await write('hooks.json', JSON.stringify([{ id: ids.log, source: 'crud', handler: 'log' }]));
    const kept = await cli(['apply', '-f', file], rt.env);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toMatch(`? not in the file ${extra.body.id}  balancer/health log`);
    expect(kept.stdout).toMatch(/1 hook not in the file is kept \(--prune deletes them\)/);
    expect(Object.keys(await stored()).sort()).toEqual([ids.log, extra.body.id].sort());
    const dry = await cli(['apply', '-f', file, '--prune', '--dry-run'], rt.env);
    expect(dry.stdout).toMatch(`- delete ${extra.body.id}`);
    expect(Object.keys(await stored())).toContain(extra.body.id);
    const pruned = await cli(['apply', '-f', file, '--prune'], rt.env);
    expect(pruned.stdout).toMatch(`- deleted ${extra.body.id}`);
    expect(Object.keys(await stored())).toEqual([ids.log]);
  });

  it('validates the whole file with the service before writing: the first refused hook stops it, with its error', async () => {
    const text = `${yamlFile()}- id: 44444444-4444-4444-8444-444444444444
  source: crud
  event: nope
  handler: log
  snooze: -1
- id: 55555555-5555-4555-8555-555555555555
  source: nope
  handler: log
`;
    const file = await write('bad.yaml', text);
    const res = await cli(['apply', '-f', file], { ...rt.env, SLACK_SECRET: 'x' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      `${file}: hook 4 (44444444-4444-4444-8444-444444444444) was refused; nothing was written`,
    );
    // Kong's message lists the field errors; the CLI does not repeat them.
    expect(res.stderr).toMatch(
      /^400: 2 schema violations \(snooze: value should be between 0 and 31536000; source 'crud' has no 'nope' event\)$/m,
    );
    expect(res.stderr).not.toMatch(/hook 5|55555555/);
    expect(await stored()).toEqual({});
  });

  it('refuses a file without ids, with a duplicate id, or a missing variable, before any request', async () => {
    const noId = await write('noid.yaml', '- source: crud\n  handler: log\n');
    expect(await cli(['apply', '-f', noId], rt.env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/hook 1: id is required/),
    });
    const twice = await write('twice.json', JSON.stringify([{ id: ids.log }, { id: ids.log.toUpperCase() }]));
    expect((await cli(['apply', '-f', twice], rt.env)).stderr).toMatch(/hook 2: id .* is already hook 1/);
    const notList = await write('map.yaml', 'data: []\n');
    expect((await cli(['diff', '-f', notList], rt.env)).stderr).toMatch(/expected a list of hooks, found an object/);
    const missing = await cli(['apply', '-f', await write('hooks.yaml', yamlFile())], rt.env);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toMatch(`hook 1 (${ids.slack}) config.secret: environment variable SLACK_SECRET is not set`);
    expect(await stored()).toEqual({});
  });

  it('refuses a YAML file whose aliases blow up or refer to themselves, as a usage error before any request', async () => {
    const circular = await write(
      'circular.yaml',
      `- id: ${ids.log}\n  source: crud\n  handler: log\n  config: &c\n    x: *c\n`,
    );
    expect(await cli(['apply', '-f', circular], rt.env)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/circular\.yaml: hook 1 refers to itself/),
    });
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const name of 'bcdefg') {
      const prev = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const bomb = await write(
      'bomb.yaml',
      `- id: ${ids.log}\n  source: crud\n  handler: log\n  config:\n    ${levels.join('\n    ')}\n`,
    );
    const res = await cli(['apply', '-f', bomb], rt.env);
    expect(res).toMatchObject({ code: 2, stderr: expect.stringMatching(/bomb\.yaml is not valid YAML/) });
    expect(await stored()).toEqual({});
  });

  it('exports every hook with secrets as references, which apply resolves: a round trip changes nothing', async () => {
    const file = await write('hooks.yaml', yamlFile());
    expect((await cli(['apply', '-f', file], { ...rt.env, SLACK_SECRET: 'hunter2' })).code).toBe(0);
    const exported = await cli(['export'], rt.env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).not.toMatch(/hunter2/);
    const variable = 'HOOK_11111111_SECRET';
    expect(exported.stderr).toMatch(`apply reads: ${variable}`);
    const hooks = parse(exported.stdout) as Record<string, unknown>[];
    expect(hooks).toHaveLength(3);
    // What export writes, an editor with the file's JSON Schema accepts.
    expect([...TypeCompiler.Compile(HooksFile).Errors(hooks)]).toEqual([]);
    expect(hooks.find((h) => h.id === ids.slack)).toMatchObject({ config: { secret: `\${${variable}}` } });
    const back = await write('exported.yaml', exported.stdout);
    const again = await cli(['apply', '-f', back], { ...rt.env, [variable]: 'hunter2' });
    expect(again.stdout).toMatch(/^no changes: 3 hooks unchanged$/m);

    const json = await cli(['export', '--json', '--show-secrets'], rt.env);
    expect(JSON.parse(json.stdout).find((h: { id: string }) => h.id === ids.slack).config.secret).toBe('hunter2');
  });

  it('exports credential headers as references too: they are secrets, sealed at rest, and a file gets committed', async () => {
    const id = '44444444-4444-4444-8444-444444444444';
    const headers = {
      Authorization: 'Bearer tok-3f9a1c',
      'X-Api-Key': 'key-77d2e0',
      'Content-Type': 'application/json',
    };
    const put = await rt.t.request('PUT', `/event-hooks/${id}`, {
      source: 'crud',
      handler: 'webhook',
      config: { url: `${rt.receiver.url}/creds`, headers },
    });
    expect(put.status).toBe(200);
    const exported = await cli(['export'], rt.env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).not.toMatch(/tok-3f9a1c|key-77d2e0/);
    const config = (parse(exported.stdout) as { id: string; config: { headers: Record<string, string> } }[]).find(
      (h) => h.id === id,
    )?.config;
    expect(config?.headers).toEqual({
      Authorization: `\${HOOK_44444444_HEADER_AUTHORIZATION}`,
      'X-Api-Key': `\${HOOK_44444444_HEADER_X_API_KEY}`,
      'Content-Type': 'application/json',
    });
    expect(exported.stderr).toMatch('HOOK_44444444_HEADER_AUTHORIZATION, HOOK_44444444_HEADER_X_API_KEY');
    const back = await write('creds.yaml', exported.stdout);
    const again = await cli(['apply', '-f', back], {
      ...rt.env,
      HOOK_44444444_HEADER_AUTHORIZATION: 'Bearer tok-3f9a1c',
      HOOK_44444444_HEADER_X_API_KEY: 'key-77d2e0',
    });
    expect(again.stdout).toMatch(/^no changes: 1 hook unchanged$/m);
    const shown = await cli(['export', '--json', '--show-secrets'], rt.env);
    expect(shown.stdout).toMatch(/tok-3f9a1c/);
  });

  it('names secret variables by the whole id when two hooks share its first 8 digits', async () => {
    const twin = '11111111-2222-4222-8222-222222222222';
    for (const id of [ids.slack, twin]) {
      const res = await rt.t.request('PUT', `/event-hooks/${id}`, {
        source: 'crud',
        handler: 'webhook',
        config: { url: `${rt.receiver.url}/twins`, secret: `secret-of-${id}` },
      });
      expect(res.status).toBe(200);
    }
    const exported = await cli(['export', '--json'], rt.env);
    const secrets = Object.fromEntries(
      (JSON.parse(exported.stdout) as { id: string; config: { secret: string } }[]).map((h) => [h.id, h.config.secret]),
    );
    expect(secrets).toEqual({
      [ids.slack]: `\${HOOK_11111111111141118111111111111111_SECRET}`,
      [twin]: `\${HOOK_11111111222242228222222222222222_SECRET}`,
    });
  });

  it('export --kong writes only the fields of Kong’s entity, and says what Kong would do differently', async () => {
    const file = await write(
      'hooks.yaml',
      yamlFile()
        .replace('url: ', 'signing: standard-webhooks\n    url: ')
        .replace('handler: log\n  threshold', 'handler: log\n  enabled: false\n  threshold'),
    );
    const applied = await cli(['apply', '-f', file], {
      ...rt.env,
      SLACK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    });
    expect(applied.stderr).toBe('');
    const out = join(rt.dir, 'kong.json');
    const res = await cli(['export', '--kong', '--json', '-o', out], rt.env);
    expect(res.code).toBe(0);
    const hooks = JSON.parse(await readFile(out, 'utf8')) as Record<string, Record<string, unknown>>[];
    for (const hook of hooks) {
      expect(Object.keys(hook).sort()).toEqual(
        ['config', 'created_at', 'event', 'handler', 'id', 'on_change', 'snooze', 'source'].sort(),
      );
      expect(hook.config).not.toHaveProperty('signing');
    }
    expect(res.stderr).toMatch(`hook ${ids.log}: its filter is dropped`);
    expect(res.stderr).toMatch(`hook ${ids.rate}: its threshold is dropped`);
    expect(res.stderr).toMatch(`hook ${ids.slack}: signs the standard-webhooks way here`);
    expect(res.stderr).toMatch(`hook ${ids.rate}: disabled here; Kong has no enabled field and would run it`);
  });

  it('says what was written when a write fails after the plan (the service changed in between)', async () => {
    // A stand-in Admin API: the dry runs pass, the second real write fails.
    let writes = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const json = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (req.method === 'GET') return json(200, { data: [], next: null });
        if (req.url?.endsWith('?dry_run=true')) return json(200, JSON.parse(body));
        writes++;
        return writes === 1 ? json(200, JSON.parse(body)) : json(503, { message: 'Service Unavailable' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const file = await write(
        'two.json',
        JSON.stringify([
          { id: ids.log, source: 'crud', handler: 'log' },
          { id: ids.rate, source: 'crud', handler: 'log' },
        ]),
      );
      const res = await cli(['apply', '-f', file, '--url', url]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(`created ${ids.log}\n${file}: stopped after 1 of 2 changes\n503: Service Unavailable`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('has --help for each command, and refuses apply without a file', async () => {
    for (const command of ['apply', 'diff', 'export', 'import']) {
      const res = await cli([command, '--help']);
      expect(res.code, command).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`usage: event-hooks ${command}`));
    }
    expect((await cli(['import', '--help'])).stdout).toMatch(/--from-kong <url>[\s\S]*--lua <what>[\s\S]*--replace/);
    expect(await cli(['apply'], rt.env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/--file <file>/) });
  });

  it('plans the documented example file (docs/rules.md#hooks-as-code): the service accepts every hook of it', async () => {
    const example = join(import.meta.dirname, '..', 'fixtures', 'hooks-files', 'hooks.yaml');
    const res = await cli(['diff', '-f', example], {
      ...rt.env,
      HOOK_6B9A4F0E_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x',
    });
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/plan: 5 to create, 0 to update, 0 unchanged, 0 to delete/);
    expect(await stored()).toEqual({});
  });
});
