import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_USER_FUNCTION_PREFIX_LENGTH,
  packageUserFunction,
  userFunctionName,
} from '../../../../shared/adapters/aws/userFunctionPackage.ts';

const dir = mkdtempSync(join(tmpdir(), 'user-fn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

type Handler = (event: { data: unknown; event: string; source: string; pid: number }) => Promise<unknown>;

/** Unpacks the package with the system unzip, as Lambda would, and loads its handler the way the Node.js runtime does. */
async function deployLocally(code: string): Promise<Handler> {
  const folder = join(dir, `fn-${count++}`);
  const zipFile = `${folder}.zip`;
  writeFileSync(zipFile, packageUserFunction(code).zip);
  execFileSync('unzip', ['-q', zipFile, '-d', folder]);
  const module = (await import(pathToFileURL(join(folder, 'index.mjs')).href)) as { handler: Handler };
  return module.handler;
}

const call = (handler: Handler, data: unknown) => handler({ data, event: 'consumers', source: 'crud', pid: 42 });

describe('packageUserFunction', () => {
  it("runs Kong's pipeline example: HELLO then data + ' WORLD'", async () => {
    // Prepare
    const first = await deployLocally('return function (data, event, source, pid) { return "HELLO" }');
    const second = await deployLocally('return function (data, event, source, pid) { return data + " WORLD" }');

    // Act
    const result = await call(second, await call(first, { some: 'data' }));

    // Assess
    expect(result).toBe('HELLO WORLD');
  });

  it('passes data, event, source, its own pid and the delivery context, and awaits async functions', async () => {
    // Prepare
    const handler = await deployLocally(
      'return async function (data, event, source, pid, context) { return { data, event, source, pid, context } }',
    );
    const context = { deliveryId: 'd-1', attempt: 2, eventId: 'e-1' };

    // Act
    const result = await call(handler, { a: 1 });
    const inDelivery = await handler({ data: null, event: 'consumers', source: 'crud', pid: 0, context } as never);

    // Assess: the pid is the function's own process (here, the test's), not the one the caller sent
    expect(result).toEqual({
      data: { a: 1 },
      event: 'consumers',
      source: 'crud',
      pid: process.pid,
      context: { deliveryId: null, attempt: null, eventId: null },
    });
    expect((inDelivery as { context: unknown }).context).toEqual(context);
  });

  it('fails the invocation when the code throws or returns an Error', async () => {
    // Prepare
    const throwing = await deployLocally('return function () { throw new Error("nope") }');
    const returning = await deployLocally('return function () { return new Error("returned") }');

    // Act + Assess
    await expect(call(throwing, {})).rejects.toThrow('nope');
    await expect(call(returning, {})).rejects.toThrow('returned');
  });

  it('returns null for a function that returns nothing, so the Lambda payload is valid JSON', async () => {
    const handler = await deployLocally('return function () {}');
    expect(await call(handler, {})).toBeNull();
  });

  it('keeps code that tries to close the wrapper inside its string', async () => {
    // Prepare: text that would break out of a naively pasted template
    const handler = await deployLocally('return function () { return "`;}); export const x = 1; //" }');

    // Act + Assess
    expect(await call(handler, {})).toBe('`;}); export const x = 1; //');
  });

  it('refuses code that does not return a function', async () => {
    const handler = await deployLocally('return 42');
    await expect(call(handler, {})).rejects.toThrow(/must return a function/);
  });

  it('reports the CodeSha256 Lambda will show: base64 SHA-256 of the zip', () => {
    const { zip, sha256 } = packageUserFunction('return function () {}');
    expect(sha256).toBe(createHash('sha256').update(zip).digest('base64'));
  });
});

describe('userFunctionName', () => {
  const entry = { tenant: 'default', hookId: 'a7d1c0de-0000-4000-8000-000000000001', index: 0, code: 'return () => 1' };

  it('is stable and matches the IAM pattern <prefix>-<16 characters>-*', () => {
    const name = userFunctionName('eh-user', entry);
    expect(name).toMatch(/^eh-user-[0-9a-f]{16}-[0-9a-f]{16}$/);
    expect(userFunctionName('eh-user', { ...entry })).toBe(name);
  });

  it('is distinct per tenant, hook, index and code', () => {
    const names = [
      entry,
      { ...entry, tenant: 'other' },
      { ...entry, hookId: 'a7d1c0de-0000-4000-8000-000000000002' },
      { ...entry, index: 1 },
      { ...entry, code: 'return () => 2' },
    ].map((e) => userFunctionName('eh-user', e));
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps parts apart whatever characters they hold', () => {
    const a = userFunctionName('eh-user', { ...entry, tenant: 'a\nb', hookId: 'c' });
    const b = userFunctionName('eh-user', { ...entry, tenant: 'a', hookId: 'b\nc' });
    expect(a).not.toBe(b);
  });

  it('fits 64 characters with the longest allowed prefix and refuses a longer one', () => {
    const longest = 'p'.repeat(MAX_USER_FUNCTION_PREFIX_LENGTH);
    const name = userFunctionName(longest, { ...entry, index: 999 });
    expect(name.length).toBe(64);
    expect(name.startsWith(`${longest}-`)).toBe(true);
    expect(() => userFunctionName(`${longest}p`, entry)).toThrow(RangeError);
  });
});
