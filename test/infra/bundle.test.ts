import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctions, bundleFunctionsSync, DEFAULT_ENTRIES } from '../../infra/bundle.ts';

const FIXTURE = 'test/fixtures/functions/handler.ts';
// Outside the project, so nothing can be resolved from node_modules at run time: the bundle must be whole.
const scratch = mkdtempSync(join(tmpdir(), 'bundle-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Loads a bundle the way the Lambda Node.js runtime does (an ES module's `handler`) in a fresh process. */
function runHandler(file: string, event: unknown): unknown {
  const script = `const m = await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(JSON.stringify(await m.handler(${JSON.stringify(event)})));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: scratch }).toString());
}

describe('bundleFunctions', () => {
  it('writes one minified ES module per function to <outDir>/<name>/index.mjs and reports its size', async () => {
    // Act
    const bundles = await bundleFunctions({
      entries: { one: FIXTURE, two: FIXTURE },
      outDir: join(scratch, 'a'),
      minify: true,
    });

    // Assess
    expect(bundles.map((b) => [b.name, b.file])).toEqual([
      ['one', join(scratch, 'a', 'one', 'index.mjs')],
      ['two', join(scratch, 'a', 'two', 'index.mjs')],
    ]);
    const source = readFileSync(bundles[0]!.file, 'utf8');
    expect(bundles[0]!.bytes).toBe(Buffer.byteLength(source));
    const [plain] = await bundleFunctions({ entries: { one: FIXTURE }, outDir: join(scratch, 'plain'), minify: false });
    expect(bundles[0]!.bytes).toBeLessThan(plain!.bytes * 0.7);
    expect(source).toMatch(/export\s*\{/);
    expect(source).not.toMatch(/sourceMappingURL/);
  });

  it('bundles the AWS SDK and CommonJS dependencies, so the file runs with nothing beside it', async () => {
    // Prepare
    const [bundle] = await bundleFunctions({ entries: { fn: FIXTURE }, outDir: join(scratch, 'b') });

    // Act
    const result = runHandler(bundle!.file, { hello: 'world' }) as Record<string, unknown>;

    // Assess: the SDK client class and the CommonJS module that requires node:os both work
    expect(result).toEqual({ ok: true, sdk: 'function', platform: process.platform, event: { hello: 'world' } });
    expect(readFileSync(bundle!.file, 'utf8')).not.toMatch(/from\s*["']@aws-sdk/);
  });

  it('gives the same bytes synchronously, as the CDK construct bundles', async () => {
    // Act
    const [asyncBundle] = await bundleFunctions({ entries: { fn: FIXTURE }, outDir: join(scratch, 'c') });
    const [syncBundle] = bundleFunctionsSync({ entries: { fn: FIXTURE }, outDir: join(scratch, 'd') });

    // Assess
    expect(readFileSync(syncBundle!.file).equals(readFileSync(asyncBundle!.file))).toBe(true);
  });

  it('knows the seven service functions and their entry points (the authorizer is deployed with api-keys only)', () => {
    expect(DEFAULT_ENTRIES).toEqual({
      admin: 'functions/admin.ts',
      ingest: 'functions/ingest.ts',
      dispatcher: 'functions/dispatcher.ts',
      delivery: 'functions/delivery.ts',
      deployer: 'functions/deployer.ts',
      sweeper: 'functions/sweeper.ts',
      authorizer: 'functions/authorizer.ts',
    });
  });
});
