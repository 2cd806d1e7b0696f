import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the stand-in took: path with query, and the `Kong-Admin-Token` it carried. */
export interface KongRequest {
  path: string;
  token: string | undefined;
}

/**
 * A stand-in for Kong's Admin API listings on 127.0.0.1, in Kong's paged shape (`{data, next,
 * offset}`, `next` a path), two rows a page so that every listing takes several pages. `rowsAt`
 * gives the rows of a path, or `undefined` for Kong's 404.
 */
export async function startFakeKong(rowsAt: (pathname: string) => readonly unknown[] | undefined) {
  const requests: KongRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kong');
    requests.push({ path: url.pathname + url.search, token: req.headers['kong-admin-token'] as string | undefined });
    const rows = rowsAt(url.pathname);
    if (!rows) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not found"}');
      return;
    }
    const start = Number(url.searchParams.get('offset') ?? '0');
    const more = start + 2 < rows.length;
    const offset = more ? String(start + 2) : undefined;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(
      JSON.stringify({
        data: rows.slice(start, start + 2),
        next: more ? `${url.pathname}?offset=${offset}` : null,
        ...(offset ? { offset } : {}),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
