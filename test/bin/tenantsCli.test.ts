import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { cli } from './cliRun.ts';

/** `event-hooks tenants …` and `event-hooks keys …` against the local runtime in multi-tenant api-keys mode. */
describe('event-hooks tenants and keys', () => {
  const OPERATOR_KEY = `op-${randomUUID()}-${randomUUID()}`;
  let t: TestRuntime;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestRuntime({ env: { TENANCY: 'multi', AUTH_MODE: 'api-keys', OPERATOR_KEY } });
    env = { EVENT_HOOKS_URL: t.runtime.url, EVENT_HOOKS_KEY: OPERATOR_KEY };
  });
  afterAll(() => t?.close());

  it('creates a tenant, mints a key shown once, lists, revokes, deletes', async () => {
    const created = await cli(['tenants', 'create', 'acme', '--json'], env);
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.stdout) as { id: string; name: string };
    expect(tenant.name).toBe('acme');

    const table = await cli(['tenants', 'list'], env);
    expect(table.stdout).toMatch(new RegExp(`^ID\\s+NAME\\s+CREATED\\n${tenant.id}\\s+acme\\s+\\d{4}-`, 'm'));
    expect(JSON.parse((await cli(['tenants', 'get', tenant.id, '--json'], env)).stdout)).toMatchObject(tenant);

    const minted = await cli(['keys', 'create', '--tenant', tenant.id, '--scope', 'admin', '--scope', 'read'], env);
    expect(minted.code).toBe(0);
    expect(minted.stderr).toMatch(/shown only now/);
    const key = /^key\s+(ehk_\S+)$/m.exec(minted.stdout)?.[1] as string;
    const keyId = /^id\s+([0-9a-f]{16})$/m.exec(minted.stdout)?.[1] as string;
    expect(key).toMatch(/^ehk_[0-9a-f]{16}_/);
    expect(minted.stdout).toMatch(/^scopes\s+admin,read$/m);

    // The tenant's key works for its hooks (through --key, over EVENT_HOOKS_KEY).
    const hooks = await cli(['hooks', 'list', '--key', key], env);
    expect(hooks).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ID\s+SOURCE/) });
    const listed = await cli(['keys', 'list', '--tenant', tenant.id], env);
    expect(listed.stdout).toMatch(new RegExp(`^${keyId}\\s+ehk_${keyId}\\s+admin,read\\s+\\d{4}-`, 'm'));
    expect(listed.stdout).not.toContain(key);

    expect(await cli(['keys', 'revoke', '--tenant', tenant.id, keyId], env)).toMatchObject({
      code: 0,
      stdout: `revoked key ${keyId}\n`,
    });
    const refused = await cli(['hooks', 'list', '--key', key], env);
    expect(refused).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^401: Unauthorized: the API key is unknown or revoked/),
    });

    expect(await cli(['tenants', 'delete', tenant.id], env)).toMatchObject({
      code: 0,
      stdout: `deleted tenant ${tenant.id}\n`,
    });
    expect(await cli(['tenants', 'get', tenant.id], env)).toMatchObject({ code: 1, stderr: '404: Not found\n' });
  });

  it('says what is wrong: no operator key (401), a bad scope (400), a missing --tenant (usage, 2)', async () => {
    const noKey = await cli(['tenants', 'list'], { EVENT_HOOKS_URL: t.runtime.url });
    expect(noKey).toMatchObject({ code: 1, stderr: expect.stringMatching(/^401: Unauthorized/) });
    const tenant = JSON.parse((await cli(['tenants', 'create', 'x', '--json'], env)).stdout) as { id: string };
    const bad = await cli(['keys', 'create', '--tenant', tenant.id, '--scope', 'root'], env);
    expect(bad).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^400: .*scopes: expected one or more of admin, ingest, read/),
    });
    expect((await cli(['keys', 'create', '--scope', 'admin'], env)).code).toBe(2);
    expect((await cli(['keys', 'list'], env)).code).toBe(2);
  });
});
