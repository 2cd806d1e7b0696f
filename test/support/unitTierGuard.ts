import { ChildProcess } from 'node:child_process';
import { Server } from 'node:net';
import { afterEach } from 'vitest';

/**
 * Setup file of the unit tier only: that tier has no sockets and no child processes, so opening a
 * server or starting a process there means a misclassified test. The static markers of `tiers.ts` see
 * what a test file says; this sees what the code it calls does. The attempt throws where it happens,
 * and because code under test may catch that, the test also fails afterwards with the reason.
 * (Outbound connections are not guarded: with no server in the process there is nothing local to
 * reach, and a test that tries fails on its own.)
 */
const refusals: string[] = [];

export function unitTierRefusal(what: string): Error {
  const message =
    `the unit tier may not ${what}: give the test file a marker from test/support/tiers.ts ` +
    '(or put it in a directory of DIRECTORY_TIERS) so that it runs in the integration tier';
  refusals.push(message);
  return new Error(message);
}

Server.prototype.listen = function listen(): never {
  throw unitTierRefusal('listen on a socket (net/http server)');
};

// `spawn`, `fork`, `exec` and `execFile` all start their process through this (undocumented) method.
(ChildProcess.prototype as ChildProcess & { spawn(): never }).spawn = function spawn(): never {
  throw unitTierRefusal('start a child process');
};

/** The refusals recorded since the last call (for the test of this guard, which expects them). */
export function takeUnitTierRefusals(): string[] {
  return refusals.splice(0);
}

afterEach(() => {
  const found = refusals.splice(0);
  if (found.length > 0) throw new Error(found[0]);
});
