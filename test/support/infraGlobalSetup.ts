import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFunctionsSync } from '../../infra/bundle.ts';
import { FIXTURE_BUNDLE_DIR_ENV, FIXTURE_ENTRIES } from '../infra/cdk/fixtureEntries.ts';

/**
 * Once per run of the infra tier: the fixture handler bundled for every service function, as
 * `npm run build` would, into one folder that every CDK test file synthesises against (the workers
 * inherit the variable). Removed at the end of the run, whatever the workers did.
 */
export default function setup(): () => void {
  // Every temporary folder of the tier goes below one scratch folder, removed at the end: a CDK
  // `App` without an outdir writes its cloud assembly to a new folder in the system's tmpdir, one
  // per synthesis, which nothing else would remove.
  const previousTmpdir = process.env.TMPDIR;
  const scratch = mkdtempSync(join(tmpdir(), 'infra-tier-'));
  process.env.TMPDIR = scratch;
  const dir = mkdtempSync(join(scratch, 'synth-bundles-'));
  bundleFunctionsSync({ entries: FIXTURE_ENTRIES, outDir: dir });
  process.env[FIXTURE_BUNDLE_DIR_ENV] = dir;
  return () => {
    delete process.env[FIXTURE_BUNDLE_DIR_ENV];
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    rmSync(scratch, { recursive: true, force: true });
  };
}
