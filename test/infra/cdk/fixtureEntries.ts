import { resolve } from 'node:path';

/** A tiny handler stands in for every function, so synth does not depend on the real entry points. */
export const FIXTURE_ENTRY = resolve(import.meta.dirname, '../../fixtures/functions/handler.ts');
export const FIXTURE_ENTRIES = {
  admin: FIXTURE_ENTRY,
  ingest: FIXTURE_ENTRY,
  dispatcher: FIXTURE_ENTRY,
  delivery: FIXTURE_ENTRY,
  deployer: FIXTURE_ENTRY,
  sweeper: FIXTURE_ENTRY,
  authorizer: FIXTURE_ENTRY,
};

/** Where test/support/infraGlobalSetup.ts put the fixture's bundles for this run. */
export const FIXTURE_BUNDLE_DIR_ENV = 'EVENT_HOOKS_TEST_FIXTURE_BUNDLES';
