import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_NODE_WARNING_SWITCH, SUPPORTED_NODE } from '../../infra/local/nodeSupport.ts';
import { node24Binary, skipNode24 } from '../support/node24.ts';
import { closedPort } from '../support/rawReceiver.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'infra', 'local', 'main.ts');

interface Run {
  url: string;
  output: string;
}

/**
 * What `npm start` runs (its script: `node --import tsx infra/local/main.ts`), under `node` (a binary
 * path), on a free port; sends one event so the store's SDK client is used, then stops it with SIGTERM.
 */
async function start(node: string, env: Record<string, string>, args: string[] = []): Promise<Run> {
  const port = await closedPort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...env };
  // vitest turns the SDK's warning off for test processes; the service must manage without that help.
  delete childEnv[SDK_NODE_WARNING_SWITCH];
  const child: ChildProcess = spawn(node, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes('try: curl')) {
      if (child.exitCode !== null) throw new Error(`the service exited: ${output}`);
      if (Date.now() > deadline) throw new Error(`no banner within 60 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const sent = await fetch(`${url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'crud', event: 'consumers', data: {} }),
    });
    expect(sent.status).toBe(202);
    expect((await fetch(`${url}/event-hooks`)).status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return { url, output };
}

/** Starts the service where it cannot start; resolves with its exit code and everything it printed. */
function failedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv[SDK_NODE_WARNING_SWITCH];
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN],
      { cwd: ROOT, env: childEnv, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe('the npm start banner', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-banner-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the console URL, the EVENT_HOOKS_URL to export and the data folder, and the Node note once', async () => {
    const { url, output } = await start(process.execPath, { DATA_DIR: dataDir });
    expect(output).toContain(`event-hooks listening on ${url}`);
    expect(output).toContain(`console: ${url}/console\n`);
    expect(output).toContain(`export EVENT_HOOKS_URL=${url}\n`);
    expect(output).toContain(`data:    ${dataDir}\n`);
    // The SDK's own 10-line warning never appears; on Node < 22 the banner's one line says it instead.
    expect(output).not.toContain('NodeVersionSupportWarning');
    const notes = output.split('\n').filter((line) => line.includes('past its end of life'));
    const major = Number(process.versions.node.split('.')[0]);
    expect(notes).toHaveLength(major < 22 ? 1 : 0);
    // Nothing else is silenced: no other warning is turned off along with it.
    expect(output).not.toMatch(/could not start/);
  });

  it('says "in memory" with --memory', async () => {
    const { output } = await start(process.execPath, { DATA_DIR: dataDir }, ['--memory']);
    expect(output).toContain('data:    in memory (nothing is kept)\n');
  });

  it.skipIf(skipNode24)('runs on Node 24 with no Node note and no SDK warning', async () => {
    const { url, output } = await start(node24Binary(), { DATA_DIR: dataDir });
    expect(output).toContain(`export EVENT_HOOKS_URL=${url}\n`);
    expect(output).not.toContain('past its end of life');
    expect(output).not.toContain('NodeVersionSupportWarning');
  });

  it('says why it cannot start: a port in use, a bad LOG_LEVEL', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const inUse = await failedStart({ PORT: String(port), DATA_DIR: dataDir });
      expect(inUse).toEqual({
        code: 1,
        output: `event-hooks could not start: 127.0.0.1:${port} is already in use (another npm start?): stop that, or set PORT to another port\n`,
      });
    } finally {
      busy.close();
    }
    const level = await failedStart({ PORT: String(await closedPort()), DATA_DIR: dataDir, LOG_LEVEL: 'verbose' });
    expect(level.code).toBe(1);
    expect(level.output).toContain("LOG_LEVEL must be one of debug, info, warn, error, got 'verbose'");
  });

  it('states the same supported range as package.json engines', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(SUPPORTED_NODE);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`Node.js ${SUPPORTED_NODE.replace('>=', '')}+`);
  });
});
