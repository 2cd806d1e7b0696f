import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readKongHooks } from '../../bin/lib/importKong.mjs';

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

/** A server on 127.0.0.1 that records what reached it, with the token it carried. */
async function serve(handler: Handler) {
  const seen: { path: string; token: string | undefined; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({
      path: req.url ?? '/',
      token: req.headers['kong-admin-token'] as string | undefined,
      authorization: req.headers.authorization,
    });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { url, seen };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

const page = (res: ServerResponse, next: string | null, data: unknown[] = []) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, next }));

// A hostile (or compromised) Kong must not make `import --from-kong` send its token elsewhere, hang or
// fill the memory: every request stays on the origin the operator named.
describe('readKongHooks against a hostile Kong', () => {
  it('refuses a protocol-relative or backslashed next that leads to another host, and sends it no token', async () => {
    const other = await serve((_req, res) => page(res, null));
    const otherHost = new URL(other.url).host;
    for (const next of [`//${otherHost}/event-hooks?offset=1`, `/\\${otherHost}/event-hooks?offset=1`]) {
      const kong = await serve((_req, res) => page(res, next));
      await expect(readKongHooks(kong.url, { token: 'kong-token-1' })).rejects.toThrow(/another host/);
    }
    expect(other.seen).toEqual([]);
  });

  it('does not follow a redirect to another host, which would carry Kong-Admin-Token there', async () => {
    const other = await serve((_req, res) => page(res, null));
    const kong = await serve((_req, res) => res.writeHead(302, { location: `${other.url}/event-hooks` }).end());
    await expect(readKongHooks(kong.url, { token: 'kong-token-2' })).rejects.toThrow(/redirect/);
    expect(other.seen).toEqual([]);
  });

  it('stops at a next that points back at a page already read, instead of reading it 1,000 times', async () => {
    const kong = await serve((_req, res) => page(res, '/event-hooks?offset=a', [{ id: 'x' }]));
    await expect(readKongHooks(kong.url)).rejects.toThrow(/already read/);
    expect(kong.seen.length).toBeLessThanOrEqual(3);
  });

  it('refuses a page larger than any Kong sends, without reading it all', async () => {
    const kong = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 48 && res.write(chunk)) sent++;
        if (sent < 48) res.once('drain', more);
        else res.end('{"data":[],"next":null}');
      };
      res.on('error', () => {});
      more();
    });
    await expect(readKongHooks(kong.url)).rejects.toThrow(/larger than/);
  });
});
