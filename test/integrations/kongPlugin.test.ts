import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Runs the Kong plugin's Lua suite (integrations/kong/spec) with busted, once under the `lua` that
 * busted's own script names and once under LuaJIT, the interpreter Kong (OpenResty) runs. A missing
 * busted fails here with the command that installs it; only `SKIP_LUA=1` skips.
 */
const PLUGIN_DIR = fileURLToPath(new URL('../../integrations/kong/', import.meta.url));
const INSTALL = 'apt-get install -y lua-busted luajit lua-cjson';

interface BustedReport {
  successes: { name: string }[];
  failures: { name: string; message?: string }[];
  errors: { name: string; message?: string }[];
  pendings: { name: string }[];
}

function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function runBusted(argv: string[]): { status: number | null; report: BustedReport; output: string } {
  const run = spawnSync(argv[0] as string, [...argv.slice(1), '--output=json'], {
    cwd: PLUGIN_DIR,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  // busted's json handler writes one JSON document on stdout.
  const start = run.stdout.indexOf('{');
  let report: BustedReport;
  try {
    report = JSON.parse(run.stdout.slice(start)) as BustedReport;
  } catch {
    throw new Error(`busted did not print a JSON report (exit ${run.status}):\n${output}`);
  }
  return { status: run.status, report, output };
}

const skip = process.env.SKIP_LUA === '1';

describe.skipIf(skip)('Kong plugin event-hooks-bridge (busted)', () => {
  const busted = which('busted');

  it('has busted installed', () => {
    if (!busted) {
      console.error(`busted is missing: install it with\n  ${INSTALL}\n(or set SKIP_LUA=1 to skip the Lua tests)`);
    }
    expect(busted, `busted is missing: ${INSTALL}`).toBeDefined();
  });

  const interpreters: [string, () => string[]][] = [
    ['lua (busted default)', () => [busted as string]],
    ['LuaJIT', () => [which('luajit') as string, busted as string]],
  ];

  for (const [name, argv] of interpreters) {
    it(`passes every spec under ${name}`, () => {
      expect(busted, `busted is missing: ${INSTALL}`).toBeDefined();
      if (name === 'LuaJIT') expect(which('luajit'), `luajit is missing: ${INSTALL}`).toBeDefined();
      const { status, report } = runBusted(argv());
      const problems = [...report.failures, ...report.errors].map((f) => `${f.name}: ${f.message ?? ''}`);
      expect(problems, `busted exited ${status}`).toEqual([]);
      expect(report.pendings).toEqual([]);
      expect(status).toBe(0);
      // The suite covers the three sources, the queue options and the batch handler.
      const names = report.successes.map((s) => s.name).join('\n');
      for (const part of [
        'consumer update once',
        'balancer/health',
        'rate-limiting refusal',
        'batches of at most 100',
        'true on a 2xx',
        'false and an error on a 5xx',
        'timeout',
      ]) {
        expect(names).toContain(part);
      }
      expect(report.successes.length).toBeGreaterThanOrEqual(20);
    });
  }
});
