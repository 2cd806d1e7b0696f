import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilHealthy } from '../support/childRuntime.ts';
import { closedPort } from '../support/rawReceiver.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does; resolves when npm has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `npm start` as a user runs it, on a free port. */
async function npmStart(env: Record<string, string>, args: string[] = []): Promise<Started> {
  const port = await closedPort();
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const output = await untilHealthy(child, url, 'npm start');
  return {
    child,
    url,
    output,
    // Resolves once every process of the group (npm, the shell, the service) has exited: npm may
    // exit on the signal before the service has finished shutting down.
    stop: async (signal = 'SIGTERM') => {
      const group = -(child.pid as number);
      process.kill(group, signal);
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          process.kill(group, 0);
        } catch {
          return;
        }
        if (Date.now() > deadline) throw new Error(`the service did not stop within 30 s: ${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('npm start (end to end)', () => {
  let dataDir: string;
  let receiver: Receiver;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'event-hooks-e2e-'));
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the seed requests with Kong’s exact shapes, delivers events, and keeps data across a restart', async () => {
    const first = await npmStart({ DATA_DIR: dataDir });
    let webhookId: string;
    try {
      expect(first.output()).toContain(`listening on ${first.url}`);
      expect(first.output()).toContain('curl');

      const slack = await call(first.url, 'POST', '/event-hooks', {
        source: 'crud',
        event: 'admins',
        handler: 'webhook-custom',
        config: {
          url: 'https://hooks.slack.com/services/foo/bar/baz',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          payload: {
            text: 'Admin account `{{ entity.username }}` {{ operation}}d; email address set to `{{ entity.email }}`',
          },
        },
      });
      expect(slack.status).toBe(201);
      // Kong's fields, plus this service's `enabled`, `filter` and `threshold` (true, null, null unless set).
      expect(Object.keys(slack.body).sort()).toEqual([
        'config',
        'created_at',
        'enabled',
        'event',
        'filter',
        'handler',
        'id',
        'on_change',
        'snooze',
        'source',
        'threshold',
      ]);
      expect(Object.keys(slack.body.config).sort()).toEqual([
        'body',
        'body_format',
        'headers',
        'headers_format',
        'method',
        'payload',
        'payload_format',
        'secret',
        'ssl_verify',
        'url',
      ]);

      const webhook = await call(first.url, 'POST', '/event-hooks', {
        source: 'crud',
        event: 'consumers',
        handler: 'webhook',
        config: { url: `${receiver.url}/hook` },
      });
      expect(webhook.status).toBe(201);
      expect(webhook.body).toMatchObject({
        config: { headers: {}, secret: null, ssl_verify: false, url: `${receiver.url}/hook` },
        event: 'consumers',
        handler: 'webhook',
        on_change: null,
        snooze: null,
        source: 'crud',
      });
      webhookId = webhook.body.id;

      const log = await call(first.url, 'POST', '/event-hooks', { source: 'crud', event: 'routes', handler: 'log' });
      expect(log.status).toBe(201);
      expect(log.body.config).toEqual({});

      const lambda = await call(first.url, 'POST', '/event-hooks', {
        source: 'crud',
        event: 'consumers',
        handler: 'lambda',
        config: {
          functions: [
            'return function (data, event, source, pid) {\n  throw new Error("Event hook on consumer " + data.entity.username)\n}\n',
          ],
        },
      });
      expect(lambda.status).toBe(201);

      const list = await call(first.url, 'GET', '/event-hooks');
      expect(list.body.next).toBeNull();
      expect(list.body.data).toHaveLength(4);

      // The automatic ping after the webhook was created.
      const [ping] = await receiver.waitFor(1);
      expect(JSON.parse(ping!.body.toString())).toMatchObject({
        source: 'kong:event_hooks',
        event: 'ping',
        event_hooks: { id: webhookId },
      });

      const accepted = await call(first.url, 'POST', '/events', {
        source: 'crud',
        event: 'consumers',
        data: { operation: 'create', entity: { username: 'jane' } },
      });
      expect(accepted.status).toBe(202);
      const [, delivery] = await receiver.waitFor(2);
      expect(JSON.parse(delivery!.body.toString())).toEqual({
        operation: 'create',
        entity: { username: 'jane' },
        event: 'consumers',
        source: 'crud',
      });
      // The delivery id names its hook and the event's time (docs/delivery.md § Delivery ids).
      expect(delivery!.headers['x-event-hooks-delivery']).toMatch(/^[0-9a-f-]{36}_[0-9a-z]{9}_[0-9a-f]{16}$/);
    } finally {
      await first.stop('SIGTERM');
    }
    expect(first.output()).toContain('SIGTERM: stopping');

    const second = await npmStart({ DATA_DIR: dataDir });
    try {
      const again = await call(second.url, 'GET', `/event-hooks/${webhookId}`);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(webhookId);
    } finally {
      await second.stop('SIGINT');
    }
    expect(second.output()).toContain('SIGINT: stopping');
  }, 120_000);

  it('keeps nothing with --memory', async () => {
    const run = await npmStart({ DATA_DIR: dataDir }, ['--memory']);
    try {
      expect((await call(run.url, 'GET', '/event-hooks')).body.data).toEqual([]);
      expect(run.output()).toContain('in memory');
    } finally {
      await run.stop('SIGINT');
    }
  }, 60_000);
});
