import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'event-hooks.mjs');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BASE = 'http://127.0.0.1:8001';

/** The README's "A quick tour" section, up to the next `## ` heading. */
function tourSection(readme: string): string {
  const start = readme.indexOf('\n## A quick tour\n');
  if (start < 0) throw new Error('README has no "## A quick tour" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/**
 * The shell commands of the section's ```sh blocks, in order. A command is a line that starts in the
 * first column (not a comment) with the indented lines after it (a JSON body, a continued option).
 */
function tourCommands(section: string): string[] {
  const commands: string[] = [];
  for (const [, block] of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block as string).split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      if (/^\s/.test(line) && commands.length > 0) commands[commands.length - 1] += `\n${line}`;
      else commands.push(line);
    }
  }
  return commands;
}

/** Commands that need a Kong Admin API; test/bin/watchKong.test.ts and importKong.test.ts run them against a stand-in. */
const NEEDS_KONG = /http:\/\/kong:8001/;

/** Example receivers in the tour, pointed at the test's receiver on 127.0.0.1 instead. */
const RECEIVER_PATHS: [RegExp, string][] = [
  [/https:\/\/webhook\.site\//g, '/webhook-site/'],
  [/https:\/\/hooks\.slack\.com\//g, '/slack/'],
];

interface Hook {
  id: string;
  handler: string;
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one command with bash, with only PATH and the tour's variables in its environment. `curl`
 * also prints the HTTP status on a last line; `npx event-hooks` is this checkout's bin (npx would
 * look elsewhere from a temporary folder), and any other `npx` is refused.
 */
function run(command: string, env: Record<string, string>, cwd: string): Promise<Ran> {
  const preamble = [
    `curl() { command curl -w '\\n%{http_code}\\n' "$@"; }`,
    `npx() { if [ "$1" = event-hooks ]; then shift; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; else echo "npx $1: not in the tour test" >&2; return 127; fi; }`,
    'set -o pipefail',
  ].join('\n');
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['--norc', '--noprofile', '-c', `${preamble}\n${command}`],
      { cwd, env: { PATH: process.env.PATH, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe("the README's quick tour", () => {
  const section = tourSection(README);
  const commands = tourCommands(section);
  let t: TestRuntime;
  let receiver: Receiver;
  let cwd: string;

  beforeAll(async () => {
    // One attempt, so the dead letter the tour replays exists within a second.
    t = await startTestRuntime({ env: { RETRY_MAX_ATTEMPTS: '1' } });
    // Everything answers 200 but /fail, which makes the tour's dead letter.
    receiver = await startReceiver((request) => ({ status: request.url.startsWith('/fail') ? 500 : 200 }));
    cwd = mkdtempSync(join(tmpdir(), 'event-hooks-tour-'));
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('names the base URL once, as $EH, and every request uses it', () => {
    expect(section.match(/^EH=(\S+)/gm)).toEqual([`EH=${BASE}`]);
    // No command spells out the local service's address: the one definition above is all there is.
    expect(commands.filter((c) => /127\.0\.0\.1|localhost/.test(c) && !c.startsWith('EH='))).toEqual([]);
    for (const command of commands.filter((c) => c.startsWith('curl'))) expect(command).toContain('$EH/');
  });

  it('docs/*.md name the local base URL only where they define $EH, and their requests use $EH', () => {
    for (const file of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, 'docs', file), 'utf8');
      const shell = [...text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1] as string).join('\n');
      const spelled = shell.split('\n').filter((line) => line.includes('127.0.0.1:8001') && !line.startsWith('EH='));
      expect(spelled, file).toEqual([]);
      if (shell.includes('$EH'))
        expect(shell.match(/^EH=(\S+)/gm), `${file} uses $EH without defining it`).toEqual([`EH=${BASE}`]);
    }
  });

  it('runs every command against a local runtime', async () => {
    const env: Record<string, string> = {};
    const hooks: Hook[] = [];
    const skipped: string[] = [];
    let ran = 0;
    let lastEventId: string | undefined;
    for (const original of commands) {
      if (NEEDS_KONG.test(original)) {
        skipped.push(original);
        continue;
      }
      const assignment = /^(?:export )?([A-Z_]+)=(\S+)/.exec(original);
      if (assignment) {
        const [, name, value] = assignment as unknown as [string, string, string];
        env[name] = value === BASE ? t.runtime.url : value.replace(/^\$(\w+)$/, (_, v: string) => env[v] ?? '');
        continue;
      }
      let command = original;
      for (const [pattern, path] of RECEIVER_PATHS) command = command.replace(pattern, `${receiver.url}${path}`);
      if (command.includes('/dead-letters/<id>')) command = command.replace('<id>', await deadLetterId());
      if (command.includes('<event id>')) {
        // An event's id: the one the last `POST /events` (curl or `emit`) of the tour answered.
        expect(lastEventId, `no event sent before: ${original}`).toBeDefined();
        command = command.replaceAll('<event id>', lastEventId as string);
      }
      if (command.includes('<id>')) {
        // A hook's id: the newest webhook (the handler that can ping and, when signed the Standard
        // Webhooks way, rotate its secret), as a reader would pick one from the listing.
        const webhook = hooks.filter((h) => h.handler === 'webhook').at(-1);
        expect(webhook, `no webhook created before: ${original}`).toBeDefined();
        command = command.replaceAll('<id>', (webhook as Hook).id);
      }
      // Nothing leaves this machine: every URL left in the command is the runtime's or the receiver's.
      for (const [url] of command.matchAll(/https?:\/\/[^\s'"]+/g)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);

      const result = await run(command, env, cwd);
      const context = `${original}\n--- exit ${result.code}\n${result.stdout}\n${result.stderr}`;
      expect(result.code, context).toBe(0);
      if (/\/events\b(?!\/)|\bemit\b/.test(command)) {
        const ids = [...result.stdout.matchAll(/"id":"([0-9a-f-]{36})"/g)].map((match) => match[1] as string);
        lastEventId = ids.at(-1) ?? lastEventId;
      }
      if (command.startsWith('curl')) {
        const lines = result.stdout.trimEnd().split('\n');
        const status = Number(lines.at(-1));
        expect(status, context).toBeGreaterThanOrEqual(200);
        expect(status, context).toBeLessThan(400);
        const body = lines.slice(0, -1).join('\n');
        const parsed = body.startsWith('{') ? (JSON.parse(body) as Partial<Hook>) : undefined;
        if (command.includes('$EH/event-hooks -') && parsed?.id && parsed.handler)
          hooks.push({ id: parsed.id, handler: parsed.handler });
      }
      ran++;
    }
    // Only the Kong commands are left out, and everything else ran.
    expect(skipped.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'npx event-hooks watch-kong',
      'npx event-hooks import',
    ]);
    expect(ran).toBe(commands.length - skipped.length - Object.keys(env).length);
    expect(hooks.length).toBeGreaterThanOrEqual(8);
    // The example receivers got their requests here (the pings on create), never over the internet.
    expect(receiver.requests.some((r) => r.url.startsWith('/webhook-site/'))).toBe(true);
  });

  /**
   * A dead letter for the tour's replay: the tour assumes a receiver that failed for good, so one is
   * made here, off the tour, with a hook on /fail and one event.
   */
  async function deadLetterId(): Promise<string> {
    const hook = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'services',
      handler: 'webhook',
      config: { url: `${receiver.url}/fail` },
    });
    expect(hook.status).toBe(201);
    expect((await t.request('POST', '/events', { source: 'crud', event: 'services', data: {} })).status).toBe(202);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const letters = await t.request('GET', '/dead-letters');
      const letter = (letters.body?.data as { id: string; hook_id?: string }[] | undefined)?.[0];
      if (letter) return letter.id;
      if (Date.now() > deadline) throw new Error(`no dead letter within 10 s: ${letters.text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
