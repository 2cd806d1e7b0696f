import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './cliRun.ts';

const servers: ReturnType<typeof createServer>[] = [];
/** A server on 127.0.0.1 that records the token each request carried. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers['kong-admin-token'] as string | undefined);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

// watch-kong reads Kong with its token on every poll: a hostile Kong must not send that token
// elsewhere, nor keep the watcher paging forever.
describe('event-hooks watch-kong against a hostile Kong', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eh-watch-kong-hostile-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const watchOnce = (adminUrl: string) =>
    cli(['watch-kong', '--admin-url', adminUrl, '--token', 'kong-token-9', '--once', '--state', join(dir, 's.json')], {
      EVENT_HOOKS_URL: 'http://127.0.0.1:1',
    });

  it('does not follow a redirect, which would carry Kong-Admin-Token to another host', async () => {
    const other = await serve((_req, res) => res.writeHead(200).end('{"data":[]}'));
    const kong = await serve((req, res) => res.writeHead(302, { location: `${other.url}${req.url}` }).end());
    const run = await watchOnce(kong.url);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/redirect/);
    expect(other.seen).toEqual([]);
  });

  it('stops at an offset Kong already gave, instead of paging forever', async () => {
    const kong = await serve((_req, res) => res.writeHead(200).end('{"data":[{"id":"x"}],"offset":"same"}'));
    const run = await watchOnce(kong.url);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/offset .* already/);
    expect(kong.seen.length).toBeLessThan(5);
  });
});
