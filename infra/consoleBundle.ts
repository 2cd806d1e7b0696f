import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, type BuildResult, build } from 'esbuild';
import { CONSOLE_FILES, type ConsoleAssets, type ConsoleFile } from '../shared/console/consoleSite.ts';

/** The console's sources: a Preact app (TSX) and its page. */
export const CONSOLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../console');

/**
 * One esbuild configuration for the console, used by the local runtime (in memory, on the first
 * request) and by the admin function's bundle (files next to it): one script and one style sheet,
 * minified for browsers of the last few years, nothing fetched at run time.
 */
export function consoleBuildOptions(): BuildOptions & { write: false } {
  return {
    entryPoints: { app: join(CONSOLE_DIR, 'src/main.tsx') },
    outdir: join(CONSOLE_DIR, 'out'),
    write: false,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    // The template renderer is the server's own (shared/hooks/templates.ts); of Node it needs only this.
    inject: [join(CONSOLE_DIR, 'src/bufferShim.ts')],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  };
}

function assetsOf(result: BuildResult<{ write: false }>, page: Buffer): ConsoleAssets {
  const byName = new Map(result.outputFiles.map((file) => [file.path.split('/').pop() as string, file.contents]));
  const assets = { 'index.html': page } as ConsoleAssets;
  for (const name of ['app.js', 'app.css'] as const) {
    const contents = byName.get(name);
    if (!contents) throw new Error(`the console build produced no ${name}`);
    assets[name] = Buffer.from(contents);
  }
  return assets;
}

/** The console's files, built now in memory (about a quarter of a second). */
export async function buildConsole(): Promise<ConsoleAssets> {
  const [result, page] = await Promise.all([build(consoleBuildOptions()), readFile(join(CONSOLE_DIR, 'index.html'))]);
  return assetsOf(result, page);
}

/** Builds the console into `dir`. */
export async function writeConsole(dir: string): Promise<void> {
  const assets = await buildConsole();
  await mkdir(dir, { recursive: true });
  await Promise.all(
    (Object.keys(CONSOLE_FILES) as ConsoleFile[]).map((file) => writeFile(join(dir, file), assets[file])),
  );
}
