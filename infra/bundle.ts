import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { writeConsole } from './consoleBundle.ts';

/** The Lambda functions of the service and their entry points (each exports `handler`). */
export const DEFAULT_ENTRIES = {
  admin: 'functions/admin.ts',
  ingest: 'functions/ingest.ts',
  dispatcher: 'functions/dispatcher.ts',
  delivery: 'functions/delivery.ts',
  deployer: 'functions/deployer.ts',
  sweeper: 'functions/sweeper.ts',
  // Deployed with authMode 'api-keys' only.
  authorizer: 'functions/authorizer.ts',
} as const;

export type FunctionName = keyof typeof DEFAULT_ENTRIES;

/** The project root: entries are resolved against it, whatever the working directory. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleOptions {
  /** Function name → entry file (relative to the project root or absolute). */
  entries: Record<string, string>;
  /** Each bundle goes to `<outDir>/<name>/index.mjs`. */
  outDir: string;
  /** Default true. */
  minify?: boolean;
  /** Also report which input files each bundle holds (`inputs`), from esbuild's metafile. */
  metafile?: boolean;
}

export interface BundledFunction {
  name: string;
  /** Absolute path of the bundle. */
  file: string;
  bytes: number;
  /** The input files with code in the bundle (paths as esbuild's metafile gives them), when `metafile` was asked for. */
  inputs?: string[];
}

/** The `package.json` files the bundles read `version` of, and nothing else: the SDK clients' (user agent) and ours (the OpenAPI document). */
const VERSION_ONLY = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

/** Packages whose modules only declare things: where nothing they export is used, they are left out. */
const PURE_PACKAGES = /^(mustache|ipaddr\.js)$/;

/**
 * Our modules that only declare things (schemas built with TypeBox, definitions), left out where
 * nothing they export is used: the handler modules, which the registry imports, and the hook schemas
 * they build on. A function that imports the registry for a table it never reads (the ingest function,
 * through the form-body parser) then bundles no handler.
 */
const PURE_MODULES = ['shared/handlers/', 'shared/hooks/schemas.ts'].map((path) => join(PROJECT_ROOT, path));

/**
 * Built-in modules loaded with `require` rather than `import`. Importing `node:http` as an ES module
 * makes Node 24 read every export to build the module's namespace, and so load the lazy ones
 * (`WebSocket`, `MessageEvent`…, that is undici and worker_threads): about 30 ms of CPU at every
 * cold start, against 6 ms for `require('node:http')` (the bundle's banner defines `require`).
 */
const REQUIRED_BUILTIN = 'event-hooks-required-builtin';

/**
 * Trims what the bundles would carry for nothing (measured with `npx tsx bench/composition.ts`):
 * - each SDK client's whole `package.json` (about 2 KB each), of which the user agent reads `version`,
 *   and ours, of which the OpenAPI document reads `version`;
 * - the SDK's SHA-256 in JavaScript (3 KB), its fallback for a Node without `node:crypto`'s sha256,
 *   which Node always has (unlike MD5 under FIPS, whose fallback stays);
 * - `node:http` as an ES module (see `REQUIRED_BUILTIN`);
 * - `mustache` and `ipaddr.js` where nothing of theirs is used (a constant of the module that uses
 *   them): their packages do not say they are free of side effects, which they are; likewise our
 *   handler modules and hook schemas (`PURE_MODULES`).
 */
const trimPlugin: Plugin = {
  name: 'event-hooks-trim',
  setup(on) {
    // Imports only: the `require` of the stand-in module itself stays the built-in.
    on.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: 'node:http', namespace: REQUIRED_BUILTIN },
    );
    on.onLoad({ filter: /.*/, namespace: REQUIRED_BUILTIN }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    on.onLoad({ filter: /[\\/]checksum[\\/]sha256[\\/]Sha256Js\.js$/ }, () => ({
      contents:
        "export class Sha256Js { constructor() { throw new Error('SHA-256 in JavaScript is not bundled: node:crypto has it'); } }",
      loader: 'js',
    }));
    on.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      return PURE_MODULES.some((pure) => path.startsWith(pure)) ? { path, sideEffects: false } : undefined;
    });
    on.onResolve({ filter: PURE_PACKAGES }, async (args) => {
      if (args.pluginData === 'pure') return undefined;
      const resolved = await on.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'pure',
      });
      return resolved.errors.length ? undefined : { path: resolved.path, sideEffects: false };
    });
    on.onLoad({ filter: /[\\/]package\.json$/ }, (args) => {
      if (!VERSION_ONLY.test(args.path) && args.path !== join(PROJECT_ROOT, 'package.json')) return undefined;
      const { version } = JSON.parse(readFileSync(args.path, 'utf8')) as { version: string };
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

/**
 * The one esbuild configuration for every function, used by `npm run build`, the benchmarks and
 * the CDK construct: ESM for Node.js 24, everything bundled (the AWS SDK too, so the version is
 * ours and cold starts load one file), a `require` for CommonJS dependencies, no source maps, and
 * credentials read from Lambda's environment (`shared/adapters/aws/lambdaCredentials.ts`).
 */
export function esbuildOptions(entry: string, outfile: string, minify = true): BuildOptions {
  return {
    entryPoints: [resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify,
    sourcemap: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // Lambda passes credentials in the environment; the SDK's full provider chain is not needed there.
    alias: {
      '@aws-sdk/credential-provider-node': resolve(PROJECT_ROOT, 'shared/adapters/aws/lambdaCredentials.ts'),
      // No operation this service calls streams events: the codec (about 15 KB) stays out of every bundle.
      '@smithy/core/event-streams': resolve(PROJECT_ROOT, 'shared/adapters/aws/noEventStreams.ts'),
    },
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    plugins: [trimPlugin],
    logLevel: 'silent',
  };
}

/**
 * Files a function serves besides its code, written next to its bundle: the admin function answers
 * `/console` with the web console's files from `console/` (functions/admin.ts).
 */
const COMPANION_FILES: Record<string, { write(dir: string): Promise<void> }> = {
  admin: { write: (dir) => writeConsole(join(dir, 'console')) },
};

function outfileOf(outDir: string, name: string): string {
  return join(resolve(outDir), name, 'index.mjs');
}

/**
 * Bundles each entry into `<outDir>/<name>/index.mjs`.
 *
 * @example await bundleFunctions({ entries: DEFAULT_ENTRIES, outDir: 'dist', minify: true })
 */
export async function bundleFunctions(options: BundleOptions): Promise<BundledFunction[]> {
  return Promise.all(
    Object.entries(options.entries).map(async ([name, entry]) => {
      const file = outfileOf(options.outDir, name);
      const result = await build({
        ...esbuildOptions(entry, file, options.minify ?? true),
        metafile: options.metafile,
      });
      await COMPANION_FILES[name]?.write(dirname(file));
      // What the output holds: the metafile's `inputs` also lists files read and then shaken out entirely.
      const output = result.metafile ? Object.values(result.metafile.outputs)[0] : undefined;
      const inputs = output
        ? Object.entries(output.inputs).flatMap(([path, { bytesInOutput }]) => (bytesInOutput > 0 ? [path] : []))
        : undefined;
      return { name, file, bytes: statSync(file).size, ...(inputs ? { inputs } : {}) };
    }),
  );
}

/**
 * The same as `bundleFunctions`, synchronously: CDK constructs are built synchronously. esbuild runs
 * plugins (`trimPlugin`) in asynchronous builds only, so this runs `bundleFunctions` in a child
 * process and waits for it: the same configuration, the same bytes.
 */
export function bundleFunctionsSync(options: BundleOptions): BundledFunction[] {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), SYNC_CHILD_FLAG, JSON.stringify(options)],
    { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: withoutNodeOptions() },
  );
  return JSON.parse(out) as BundledFunction[];
}

const SYNC_CHILD_FLAG = '--bundle-child';

/** The environment for the child, without a loader inherited through NODE_OPTIONS (e.g. vitest's): tsx is given. */
function withoutNodeOptions(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return env;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (process.argv[2] === SYNC_CHILD_FLAG) {
    const bundles = await bundleFunctions(JSON.parse(process.argv[3] as string) as BundleOptions);
    process.stdout.write(JSON.stringify(bundles));
  } else {
    const outDir = resolve(PROJECT_ROOT, process.argv[2] ?? 'dist');
    const bundles = await bundleFunctions({ entries: DEFAULT_ENTRIES, outDir, minify: true });
    for (const { name, file, bytes } of bundles) {
      process.stdout.write(`${name.padEnd(12)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${file}\n`);
    }
  }
}
