import { describe, expect, it } from 'vitest';
import { cli, useCliRuntime } from './cliRun.ts';

describe('npx event-hooks emit', () => {
  const rt = useCliRuntime('eh-emit-');

  it('sends an event that reaches a hook, and prints the accepted event', async () => {
    await rt.t.request('POST', '/event-hooks', {
      source: 'balancer',
      event: 'health',
      handler: 'webhook',
      config: { url: `${rt.receiver.url}/cli` },
    });
    await rt.receiver.waitFor(1);
    const res = await cli(['emit', 'balancer', 'health', '{"upstream_id":"u9"}'], {
      EVENT_HOOKS_URL: rt.t.runtime.url,
    });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).data[0]).toMatchObject({
      source: 'balancer',
      event: 'health',
      id: expect.any(String),
    });
    const [, delivered] = await rt.receiver.waitFor(2);
    expect(JSON.parse(delivered!.body.toString())).toEqual({ upstream_id: 'u9', event: 'health', source: 'balancer' });
  });

  it('takes the URL as a flag too', async () => {
    const res = await cli(['emit', 'balancer', 'health', '{}', '--url', rt.t.runtime.url]);
    expect(res.code).toBe(0);
  });

  it('explains usage, bad JSON, refused events and an unreachable service', async () => {
    expect((await cli([])).stderr).toMatch(/usage: event-hooks emit/);
    const badJson = await cli(['emit', 'balancer', 'health', '{nope'], { EVENT_HOOKS_URL: rt.t.runtime.url });
    expect(badJson).toMatchObject({ code: 2, stderr: expect.stringMatching(/not valid JSON/) });
    const refused = await cli(['emit', 'nope', 'x', '{}'], { EVENT_HOOKS_URL: rt.t.runtime.url });
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^400: .*not registered/) });
    const down = await cli(['emit', 'balancer', 'health', '{}'], { EVENT_HOOKS_URL: 'http://127.0.0.1:1' });
    expect(down).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:1/) });
  });
});
