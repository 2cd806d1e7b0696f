import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'event-hooks.mjs');
const run = promisify(execFile);

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npx event-hooks emit', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startTestRuntime();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('sends an event that reaches a hook, and prints the accepted event', async () => {
    await t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${receiver.url}/cli` },
    });
    await receiver.waitFor(1);
    const res = await cli(['emit', 'balancer', 'health', '{"upstream_id":"u9"}'], { EVENT_HOOKS_URL: t.runtime.url });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).data[0]).toMatchObject({
      source: 'balancer',
      event: 'health',
      id: expect.any(String),
    });
    const [, delivered] = await receiver.waitFor(2);
    expect(JSON.parse(delivered!.body.toString())).toEqual({ upstream_id: 'u9', event: 'health', source: 'balancer' });
  });

  it('takes the URL as a flag too', async () => {
    const res = await cli(['emit', 'balancer', 'health', '{}', '--url', t.runtime.url]);
    expect(res.code).toBe(0);
  });

  it('explains usage, bad JSON, refused events and an unreachable service', async () => {
    expect((await cli([])).stderr).toMatch(/usage: event-hooks emit/);
    const badJson = await cli(['emit', 'balancer', 'health', '{nope'], { EVENT_HOOKS_URL: t.runtime.url });
    expect(badJson).toMatchObject({ code: 2, stderr: expect.stringMatching(/not valid JSON/) });
    const refused = await cli(['emit', 'nope', 'x', '{}'], { EVENT_HOOKS_URL: t.runtime.url });
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^400: .*not registered/) });
    const down = await cli(['emit', 'balancer', 'health', '{}'], { EVENT_HOOKS_URL: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:1/) });
  });
});
