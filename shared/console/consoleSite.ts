import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MethodNotAllowedError, NotFoundError } from '../errors.ts';

/** The files the console is made of, and how each is served. `index.html` loads the other two. */
export const CONSOLE_FILES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;
export type ConsoleAssets = Record<ConsoleFile, Buffer>;

/** Where the console lives; the page is a single document routed by its URL fragment. */
export const CONSOLE_PREFIX = '/console';

/** Every path that answers: `/console` redirects to `/console/` so the page's relative URLs resolve under it. */
export const CONSOLE_PATHS: readonly string[] = [
  CONSOLE_PREFIX,
  `${CONSOLE_PREFIX}/`,
  ...Object.keys(CONSOLE_FILES).map((file) => `${CONSOLE_PREFIX}/${file}`),
];

/**
 * The console shows data written by people who are not its user (response bodies, headers, event
 * data): even if a payload slipped into the page as markup, no inline or foreign script runs, no
 * plugin loads and no other site may frame the page.
 */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Small files that change with each release: revalidated rather than cached blindly.
  'cache-control': 'no-cache',
};

export interface ConsoleResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

function fileOf(path: string): ConsoleFile {
  const name = path === `${CONSOLE_PREFIX}/` ? 'index.html' : path.slice(CONSOLE_PREFIX.length + 1);
  if (!Object.hasOwn(CONSOLE_FILES, name)) throw new NotFoundError();
  return name as ConsoleFile;
}

/**
 * The answer to a request under `/console`: a file of the console with the security headers, a
 * redirect from the bare prefix, or an error of the hierarchy (404, 405) for the caller to shape.
 */
export async function consoleResponse(
  method: string,
  path: string,
  assets: () => Promise<ConsoleAssets>,
): Promise<ConsoleResponse> {
  if (!isConsolePath(path)) throw new NotFoundError();
  const upper = method.toUpperCase();
  if (upper !== 'GET' && upper !== 'HEAD') throw new MethodNotAllowedError();
  if (path === CONSOLE_PREFIX) {
    return { statusCode: 302, headers: { ...SECURITY_HEADERS, location: `${CONSOLE_PREFIX}/` }, body: Buffer.alloc(0) };
  }
  const file = fileOf(path);
  const body = (await assets())[file];
  return {
    statusCode: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': CONSOLE_FILES[file] },
    body: upper === 'HEAD' ? Buffer.alloc(0) : body,
  };
}

/** `load` run once on first use and kept; a failure is not kept, so the next request tries again. */
export function loadOnce(load: () => Promise<ConsoleAssets>): () => Promise<ConsoleAssets> {
  let loaded: Promise<ConsoleAssets> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
}

/** The console's files from a folder (the admin function's bundle carries them in `console/`). */
export function consoleAssetsFromDir(dir: string): () => Promise<ConsoleAssets> {
  return loadOnce(async () => {
    const entries = await Promise.all(
      Object.keys(CONSOLE_FILES).map(async (file) => [file, await readFile(join(dir, file))] as const),
    );
    return Object.fromEntries(entries) as ConsoleAssets;
  });
}
