import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { classifyTests } from './test/support/tiers.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
// Decided from each file's content when the config loads (test/support/tiers.ts), so a new test
// lands in its tier without anyone listing it.
const tiers = classifyTests(root);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The AWS SDK's "NodeVersionSupportWarning" is 8 lines per test file on Node 20 (every file is its
    // own process). It is said once per run by test/support/globalSetup.ts instead; the variable
    // silences only that one notice (see @aws-sdk/core emitWarningIfUnsupportedVersion).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    globalSetup: ['test/support/globalSetup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: tiers.unit, setupFiles: ['test/support/unitTierGuard.ts'] },
      },
      { extends: true, test: { name: 'integration', include: tiers.integration } },
      {
        extends: true,
        test: {
          name: 'infra',
          include: tiers.infra,
          // aws-cdk-lib takes seconds to import: one module cache per worker instead of one per file.
          isolate: false,
          globalSetup: ['test/support/globalSetup.ts', 'test/support/infraGlobalSetup.ts'],
        },
      },
    ],
  },
});
