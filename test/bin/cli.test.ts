import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli, useCliRuntime } from './cliRun.ts';

const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

describe('event-hooks conventions', () => {
  it('prints the version from package.json', async () => {
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('has --help on every command and group, exit 0', async () => {
    for (const args of [
      ['--help'],
      ['hooks', '--help'],
      ['hooks', 'create', '--help'],
      ['dead-letters', 'replay', '--help'],
      ['sources', 'put', '--help'],
      ['emit', '--help'],
      ['watch-kong', '--help'],
    ]) {
      const res = await cli(args);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`usage: event-hooks ${args.slice(0, -1).join(' ')}`));
      expect(res.stdout).toMatch(/--help/);
    }
    expect((await cli(['watch-kong', '--help'])).stdout).toMatch(/--admin-url/);
  });

  it('prints help and exits 2 for an unknown command, an unknown flag, a missing argument or a bare group', async () => {
    const unknown = await cli(['list']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command 'list'[\s\S]*usage:/) });
    // A subcommand typed without its group points at the groups that have it.
    expect(unknown.stderr).toMatch(
      /unknown command 'list' \(did you mean 'hooks list', ('[a-z-]+ list', )*'sources list'[^)]*\?\)/,
    );
    expect(unknown.stderr).toContain("'dead-letters list'");
    expect(await cli(['emitt'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command 'emitt'\n\(Did you mean emit\?\)/),
    });
    const flag = await cli(['hooks', 'list', '--bogus']);
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown option '--bogus'[\s\S]*usage:/) });
    expect(await cli(['hooks', 'get'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing required/) });
    expect(await cli(['hooks'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: event-hooks hooks/) });
    expect(await cli(['hooks', 'create', '--data', '{nope'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--data is not valid JSON/),
    });
  });

  it('sends --key (or EVENT_HOOKS_KEY) as a bearer token, to --url (or EVENT_HOOKS_URL)', async () => {
    const service = await startReceiver(() => ({ status: 200, body: '{"data":[],"next":null}' }));
    try {
      expect((await cli(['hooks', 'list', '--url', service.url, '--key', 'k1'])).code).toBe(0);
      expect(
        (await cli(['sources', 'list'], { EVENT_HOOKS_URL: service.url, EVENT_HOOKS_KEY: 'k2', PORT: '1' })).code,
      ).toBe(0);
      const [first, second] = await service.waitFor(2);
      expect(first?.headers.authorization).toBe('Bearer k1');
      expect(second?.headers.authorization).toBe('Bearer k2');
      expect(second?.url).toBe('/event-hooks/sources');
    } finally {
      await service.close();
    }
  });

  it('lists every page, following `next` under the base URL (which may carry a stage prefix)', async () => {
    const service = await startReceiver((request) => {
      const page = request.url.includes('offset=p2')
        ? {
            data: [
              {
                id: 'h2',
                source: 'balancer',
                event: 'health',
                handler: 'log',
                config: { url: 'http://x/\u001b[2J\u0007' },
              },
            ],
            next: null,
          }
        : { data: [{ id: 'h1', source: 'crud', event: 'consumers', handler: 'log' }], next: '/event-hooks?offset=p2' };
      return { status: 200, body: JSON.stringify(page) };
    });
    try {
      const res = await cli(['hooks', 'list', '--url', `${service.url}/prod/`]);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/h1\s+crud\s+consumers\s+log\n.*h2\s+balancer\s+health\s+log/);
      expect(service.requests.map((r) => r.url)).toEqual(['/prod/event-hooks', '/prod/event-hooks?offset=p2']);
      // Data written by others cannot drive the terminal: escape sequences lose their control characters.
      expect([...res.stdout].filter((c) => c !== '\n' && c.charCodeAt(0) < 0x20)).toEqual([]);
      expect(res.stdout).toContain('http://x/[2J');
    } finally {
      await service.close();
    }
  });
});

describe('event-hooks commands against the local runtime', () => {
  const rt = useCliRuntime('eh-cli-');

  it('emit reads PORT when no URL is given', async () => {
    const port = new URL(rt.t.runtime.url).port;
    const res = await cli(['emit', 'balancer', 'health', '{"upstream_id":"u1"}'], { PORT: port });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).data[0]).toMatchObject({ source: 'balancer', event: 'health' });
  });

  it('hooks create|get|list|update|test|ping|delete, with secrets hidden unless --show-secrets', async () => {
    const url = `${rt.receiver.url}/hooks`;
    const created = await cli(
      [
        'hooks',
        'create',
        '--json',
        '--source',
        'crud',
        '--event',
        'consumers',
        '--handler',
        'webhook',
        '--config-json',
        JSON.stringify({ url, secret: 'hunter2' }),
      ],
      rt.env,
    );
    expect(created.code).toBe(0);
    const hook = JSON.parse(created.stdout);
    expect(hook).toMatchObject({ source: 'crud', event: 'consumers', handler: 'webhook', config: { url } });
    expect(hook.config.secret).toBe('********');
    expect(created.stdout).not.toContain('hunter2');

    const table = await cli(['hooks', 'get', hook.id], rt.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^FIELD\s+VALUE/);
    expect(table.stdout).toMatch(new RegExp(`config\\.url\\s+${url}`));
    expect(table.stdout).not.toContain('hunter2');
    expect((await cli(['hooks', 'get', hook.id, '--show-secrets'], rt.env)).stdout).toMatch(/config\.secret\s+hunter2/);

    const list = await cli(['hooks', 'list'], rt.env);
    expect(list.stdout).toMatch(/^ID\s+SOURCE\s+EVENT\s+HANDLER\s+SNOOZE\s+URL/);
    expect(list.stdout).toMatch(new RegExp(`${hook.id}\\s+crud\\s+consumers\\s+webhook\\s+${url}`));
    const listed = JSON.parse((await cli(['hooks', 'list', '--json'], rt.env)).stdout);
    expect(listed.data.map((h: { id: string }) => h.id)).toContain(hook.id);
    expect(JSON.stringify(listed)).not.toContain('hunter2');

    const updated = await cli(['hooks', 'update', hook.id, '--data', '{"snooze":30}', '--json'], rt.env);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id: hook.id, snooze: 30 });

    const before = rt.receiver.requests.length;
    const tested = await cli(['hooks', 'test', hook.id, '{"entity":{"username":"jane"}}', '--json'], rt.env);
    expect(tested.code).toBe(0);
    const ping = await cli(['hooks', 'ping', hook.id], rt.env);
    expect(ping.code).toBe(0);
    // The ping body carries the hook as the rt.receiver got it: its secret stays hidden here too.
    expect(ping.stdout).not.toContain('hunter2');
    expect((await cli(['hooks', 'ping', hook.id, '--show-secrets'], rt.env)).stdout).toContain('hunter2');
    const got = await rt.receiver.waitFor(before + 3);
    expect(
      got
        .slice(before)
        .map((r) => r.body.toString())
        .join('\n'),
    ).toContain('jane');

    expect(await cli(['hooks', 'delete', hook.id], rt.env)).toMatchObject({ code: 0, stdout: `deleted ${hook.id}\n` });
    const gone = await cli(['hooks', 'get', hook.id], rt.env);
    expect(gone).toMatchObject({ code: 1, stderr: expect.stringMatching(/^404: Not found/) });
  });

  it('hooks create takes --file, and prints the refusal with its fields (exit 1)', async () => {
    const file = join(rt.dir, 'hook.json');
    await writeFile(file, JSON.stringify({ source: 'balancer', event: 'health', handler: 'log' }));
    const ok = await cli(['hooks', 'create', '--file', file], rt.env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/handler\s+log/);
    const bad = await cli(['hooks', 'create', '--source', 'balancer', '--event', 'health'], rt.env);
    expect(bad).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^400: schema violation.*handler: required field missing/),
    });
    const badJson = await cli(['hooks', 'create', '--source', 'balancer', '--event', 'health', '--json'], rt.env);
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.stderr)).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^schema violation/),
      fields: { handler: 'required field missing' },
    });
    const id = ok.stdout.match(/^id\s+(\S+)$/m)?.[1] as string;
    const snooze = await cli(['hooks', 'update', id, '--snooze', 'soon'], rt.env);
    expect(snooze).toMatchObject({ code: 1, stderr: expect.stringMatching(/^400: schema violation.*snooze: /) });
  });

  it('sources put|list|delete', async () => {
    const put = await cli(
      [
        'sources',
        'put',
        'billing',
        'invoice-paid',
        '--fields',
        'customer,amount',
        '--description',
        'An invoice was paid',
      ],
      rt.env,
    );
    expect(put).toMatchObject({ code: 0, stdout: 'defined billing/invoice-paid\n' });
    const list = await cli(['sources', 'list'], rt.env);
    expect(list.stdout).toMatch(/^SOURCE\s+EVENT\s+FIELDS\s+DESCRIPTION/);
    expect(list.stdout).toMatch(/billing\s+invoice-paid\s+customer,amount\s+An invoice was paid/);
    expect(list.stdout).toMatch(/crud\s+consumers/);
    expect(JSON.parse((await cli(['sources', 'list', '--json'], rt.env)).stdout).data.billing).toBeDefined();
    expect(await cli(['sources', 'delete', 'billing', 'invoice-paid'], rt.env)).toMatchObject({ code: 0 });
    expect((await cli(['sources', 'list'], rt.env)).stdout).not.toMatch(/invoice-paid/);
  });
});

describe('event-hooks dead-letters', () => {
  let t: TestRuntime;
  let failing = true;
  let receiver: Receiver;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestRuntime({ env: { RETRY_MAX_ATTEMPTS: '1' } });
    receiver = await startReceiver((request) => ({ status: failing && request.url === '/dl' ? 500 : 200 }));
    env = { EVENT_HOOKS_URL: t.runtime.url };
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('lists dead letters, replays one by id and the rest with --all (plain lines when not a TTY)', async () => {
    const hook = await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${receiver.url}/dl` },
    });
    expect(hook.status).toBe(201);
    for (const n of [1, 2, 3]) expect((await cli(['emit', 'balancer', 'health', `{"n":${n}}`], env)).code).toBe(0);
    let letters: { id: string }[] = [];
    for (let i = 0; i < 100 && letters.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      letters = (await t.request('GET', '/dead-letters')).body.data;
    }
    expect(letters).toHaveLength(3);

    const list = await cli(['dead-letters', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+HOOK\s+EVENT\s+ATTEMPTS\s+DEAD SINCE\s+REASON/);
    for (const { id } of letters) expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(new RegExp(`${hook.body.id}\\s+balancer/health\\s+1`));

    failing = false;
    const delivered = receiver.requests.length;
    const one = await cli(['dead-letters', 'replay', letters[0]!.id, '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: letters[0]!.id });
    const rest = await cli(['dead-letters', 'replay', '--all'], env);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toBe(
      `${letters
        .slice(1)
        .map(({ id }) => `replayed ${id}\n`)
        .join('')}replayed 2 dead letters\n`,
    );
    const got = await receiver.waitFor(delivered + 3);
    const bodies = got.slice(delivered).map((r) => JSON.parse(r.body.toString()).n);
    expect(bodies.sort()).toEqual([1, 2, 3]);
    expect(await cli(['dead-letters', 'replay'], env)).toMatchObject({
      code: 2,
      stderr: /give a dead letter id or --all/,
    });
    expect(await cli(['dead-letters', 'replay', 'nope'], env)).toMatchObject({ code: 1, stderr: /^404/ });
  });

  it('draws a progress bar for replay --all on a terminal', async () => {
    failing = true;
    for (const n of [4, 5]) expect((await cli(['emit', 'balancer', 'health', `{"n":${n}}`], env)).code).toBe(0);
    for (let i = 0; i < 100 && (await t.request('GET', '/dead-letters')).body.data.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    failing = false;
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs');
    // util-linux `script` gives the command a pseudo-terminal, as a user's shell would.
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        'script',
        ['-qec', `'${process.execPath}' '${bin}' dead-letters replay --all`, '/dev/null'],
        { env: { PATH: process.env.PATH, ...env }, timeout: 30_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    expect(output).toContain('\rreplaying [###############...............] 1/2');
    expect(output).toContain('\rreplaying [##############################] 2/2');
    expect(output).toMatch(/replayed 2 dead letters/);
    expect(output).not.toMatch(/replayed [0-9a-f-]{36}/);
    expect((await t.request('GET', '/dead-letters')).body.data).toEqual([]);
  });
});
