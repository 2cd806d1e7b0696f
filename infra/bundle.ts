import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, buildSync } from 'esbuild';
import { writeConsole, writeConsoleSync } from './consoleBundle.ts';

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
}

export interface BundledFunction {
  name: string;
  /** Absolute path of the bundle. */
  file: string;
  bytes: number;
}

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
    alias: { '@aws-sdk/credential-provider-node': resolve(PROJECT_ROOT, 'shared/adapters/aws/lambdaCredentials.ts') },
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    logLevel: 'silent',
  };
}

/**
 * Files a function serves besides its code, written next to its bundle: the admin function answers
 * `/console` with the web console's files from `console/` (functions/admin.ts).
 */
const COMPANION_FILES: Record<string, { write(dir: string): Promise<void>; writeSync(dir: string): void }> = {
  admin: {
    write: (dir) => writeConsole(join(dir, 'console')),
    writeSync: (dir) => writeConsoleSync(join(dir, 'console')),
  },
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
      await build(esbuildOptions(entry, file, options.minify ?? true));
      await COMPANION_FILES[name]?.write(dirname(file));
      return { name, file, bytes: statSync(file).size };
    }),
  );
}

/** The same as `bundleFunctions`, synchronously: CDK constructs are built synchronously. */
export function bundleFunctionsSync(options: BundleOptions): BundledFunction[] {
  return Object.entries(options.entries).map(([name, entry]) => {
    const file = outfileOf(options.outDir, name);
    mkdirSync(dirname(file), { recursive: true });
    buildSync(esbuildOptions(entry, file, options.minify ?? true));
    COMPANION_FILES[name]?.writeSync(dirname(file));
    return { name, file, bytes: statSync(file).size };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(PROJECT_ROOT, process.argv[2] ?? 'dist');
  const bundles = await bundleFunctions({ entries: DEFAULT_ENTRIES, outDir, minify: true });
  for (const { name, file, bytes } of bundles) {
    process.stdout.write(`${name.padEnd(12)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${file}\n`);
  }
}
