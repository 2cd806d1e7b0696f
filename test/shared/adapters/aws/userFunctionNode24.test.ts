import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageUserFunction } from '../../../../shared/adapters/aws/userFunctionPackage.ts';
import { NODE24_BINARY, node24Binary, skipNode24 } from '../../../support/node24.ts';

const dir = mkdtempSync(join(tmpdir(), 'user-fn-node24-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** What the Lambda Node.js runtime does with `index.handler` of an ES module: import it, call it, JSON the result. */
const RUNTIME_SHIM = `
const [file, event] = process.argv.slice(2);
const { handler } = await import(file);
const out = { node: process.version };
try {
  out.result = await handler(JSON.parse(event));
} catch (error) {
  out.error = { errorType: error?.name, errorMessage: error?.message };
}
process.stdout.write(JSON.stringify(out));
`;

interface Run {
  node: string;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

/** Unzips the deployment package as Lambda does and invokes its handler under Node 24, in a child process. */
function invokeUnderNode24(code: string, data: unknown): Run {
  const folder = join(dir, `fn-${count++}`);
  writeFileSync(`${folder}.zip`, packageUserFunction(code).zip);
  execFileSync('unzip', ['-q', `${folder}.zip`, '-d', folder]);
  const shim = join(dir, 'runtime.mjs');
  writeFileSync(shim, RUNTIME_SHIM);
  const event = JSON.stringify({ data, event: 'consumers', source: 'crud', pid: 7 });
  const stdout = execFileSync(node24Binary(), [shim, join(folder, 'index.mjs'), event], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as Run;
}

describe.skipIf(skipNode24)('the generated user-function module under Node 24 (the Lambda runtime)', () => {
  it('runs code that awaits before returning its function', () => {
    const code =
      'const suffix = await Promise.resolve(" WORLD"); return async function (data) { return data + suffix }';
    const run = invokeUnderNode24(code, 'HELLO');
    expect(run.node).toMatch(/^v24\./);
    expect(run).toMatchObject({ result: 'HELLO WORLD' });
  });

  it('runs a plain function and passes data, event, source, its own pid and the delivery context', () => {
    const run = invokeUnderNode24(
      'return function (data, event, source, pid, context) { return { data, event, source, pid, context, own: process.pid } }',
      {
        a: 1,
      },
    );
    const result = run.result as { pid: number; own: number };
    expect(result).toMatchObject({ data: { a: 1 }, event: 'consumers', source: 'crud' });
    // Kong's pid is the worker's own, never one a caller passed in the event.
    expect(result.pid).toBe(result.own);
    expect(result.pid).not.toBe(7);
    expect(run.result).toMatchObject({ context: { deliveryId: null, attempt: null, eventId: null } });
  });

  it('fails the invocation when the awaited body rejects or returns no function', () => {
    expect(invokeUnderNode24('await Promise.reject(new Error("not ready"))', {}).error?.errorMessage).toBe('not ready');
    expect(invokeUnderNode24('return await 42', {}).error?.errorMessage).toMatch(/must return a function/);
  });
});

describe('the test runner', () => {
  it('runs on the machine’s Node, not the Node 24 of tools/node24', () => {
    // Node 24 is called by path only: were it a root dependency, npm would put it first on PATH for `npm test`.
    expect(Number(process.versions.node.split('.')[0])).toBe(20);
    expect(process.execPath).not.toBe(NODE24_BINARY);
    expect(process.env.PATH ?? '').not.toContain(join('tools', 'node24'));
  });
});
