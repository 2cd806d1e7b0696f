/**
 * `npm run screenshots`: the console's main pages as PNG files in docs/console/, taken in Debian's
 * chromium from a throwaway local runtime filled with sample hooks, deliveries and dead letters.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { startLocalRuntime } from '../infra/local/localRuntime.ts';
import { memoryLogger } from '../shared/logger.ts';
import { launchChromium } from '../test/support/browser.ts';

const OUT = resolve(import.meta.dirname, '../docs/console');

async function main(): Promise<void> {
  // A receiver that fails one request in four, so the plots have more than one outcome.
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    received += 1;
    const fail = received % 4 === 0;
    setTimeout(
      () => {
        res.writeHead(fail ? 503 : 200, { 'content-type': 'application/json' });
        res.end(fail ? '{"error":"busy"}' : '{"ok":true}');
      },
      5 + (received % 7) * 9,
    );
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const runtime = await startLocalRuntime({
    port: 0,
    memory: true,
    // The unreachable hook's dead letters would fill the terminal; the pages show them.
    logger: memoryLogger(),
    env: {
      ...process.env,
      RETRY_MAX_ATTEMPTS: '2',
      RETRY_BASE_DELAY_MS: '20',
      RETRY_MAX_DELAY_MS: '50',
      HTTP_TIMEOUT_MS: '500',
    },
    drainMs: 500,
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return text ? JSON.parse(text) : undefined;
  };
  const browser = await launchChromium();
  try {
    const hook = await api('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: receiverUrl, secret: 'a-secret-of-sixteen+' },
    });
    await api('POST', '/event-hooks', {
      source: 'crud',
      event: 'services:update',
      handler: 'webhook-custom',
      config: { url: receiverUrl, method: 'POST', body: '{"text":"{{ entity.name }} was {{ operation }}d"}' },
    });
    await api('POST', '/event-hooks', {
      source: 'rate-limiting-advanced',
      event: 'rate-limit-exceeded',
      handler: 'log',
    });
    // Unreachable: its deliveries end as dead letters.
    await api('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: 'http://127.0.0.1:9/unreachable' },
    });
    await api('PUT', '/event-hooks/sources/shop/order-placed', {
      fields: ['order_id', 'total'],
      description: 'An order was placed in the shop',
    });
    let lastEvent = '';
    for (let i = 0; i < 24; i++) {
      const accepted = await api('POST', '/events', {
        source: 'crud',
        event: 'consumers',
        data: { operation: 'create', entity: { username: `user-${i}` } },
      });
      lastEvent = accepted?.data?.[0]?.id ?? lastEvent;
      await new Promise((done) => setTimeout(done, 40));
    }
    await new Promise((done) => setTimeout(done, 1500));

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    let loads = 0;
    const shoot = async (route: string, title: string, file: string, then?: (page: Page) => Promise<void>) => {
      await page.goto(`${runtime.url}/console/?shot=${++loads}#${route}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await then?.(page);
      await page.waitForLoadState('networkidle');
      // The first screenful: long lists (dead letters with their data) make unwieldy pictures.
      await page.screenshot({ path: `${OUT}/${file}`, fullPage: file === 'hook-form.png' || file === 'hook.png' });
      process.stdout.write(`docs/console/${file}\n`);
    };
    await shoot('/hooks', 'Event hooks', 'hooks.png');
    await shoot('/hooks/new', 'New hook', 'hook-form.png', async (p) => {
      await p.getByLabel('Handler').selectOption('webhook-custom');
      await p.getByLabel('URL').fill('not a url');
      await p.getByLabel('Body template').fill('{"text":"{{ entity.username }} was {{ operation }}d"}');
      await p.getByRole('button', { name: 'Create hook' }).click();
      await p.locator('#field-config-url-error').waitFor();
    });
    await shoot(`/hooks/${hook.id}`, 'Hook crud / consumers', 'hook.png', async (p) => {
      const attempts = p.getByRole('button', { name: 'Show attempts' }).first();
      if (await attempts.count()) await attempts.click();
    });
    await shoot(`/events/${lastEvent}`, 'Events', 'events.png');
    await shoot('/dead-letters', 'Dead letters', 'dead-letters.png');
    await shoot('/sources', 'Sources', 'sources.png');
  } finally {
    await browser.close();
    await runtime.close();
    receiver.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`screenshots failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
