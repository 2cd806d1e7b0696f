import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SKIP_BROWSER, watchedPage } from '../support/browser.ts';
import { closedPort } from '../support/rawReceiver.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '50',
  HTTP_TIMEOUT_MS: '1000',
};

/** Markup that runs script if it is ever parsed as HTML: an image error handler, a script, an SVG onload. */
function payload(where: string): string {
  return (
    `<img src=x onerror="window.__pwned='${where}';alert('${where}')">` +
    `<script>window.__pwned='${where}-script'</script>` +
    `<svg onload="window.__pwned='${where}-svg'"></svg>`
  );
}

/** The payload as a JSON block shows it (inside a string, its quotes escaped). */
const asJson = (where: string) => JSON.stringify(payload(where)).slice(1, -1);

/**
 * Data from people who are not the console's user, planted everywhere the console shows it. The page
 * is opened with its Content-Security-Policy bypassed, so only the console's own rendering (text,
 * never HTML) stands between the payloads and a script run: the policy is a second wall, tested
 * in console.browser.test.ts.
 */
describe.skipIf(SKIP_BROWSER)('web console with hostile data (chromium)', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let dialogs: string[];

  beforeAll(async () => {
    [t, receiver, browser] = await Promise.all([
      startTestRuntime({ env: FAST_RETRIES }),
      // A response body and a header written by the receiver's owner.
      startReceiver(() => ({ status: 200, body: payload('response-body'), headers: { 'x-note': payload('header') } })),
      launchChromium(),
    ]);
    const context = await browser.newContext({ bypassCSP: true });
    ({ page, dialogs } = await watchedPage(context));
    page.setDefaultTimeout(5_000);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.close();
  });

  it('shows response bodies, headers, event data, hook settings and source descriptions as text; none of them runs', async () => {
    // Prepare
    const hook = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: receiver.url, headers: { 'x-hook-name': payload('hook-name') } },
    });
    expect(hook.status).toBe(201);
    const failing = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'consumers',
      handler: 'webhook',
      config: { url: `http://127.0.0.1:${await closedPort()}/` },
    });
    expect(failing.status).toBe(201);
    const source = await t.request('PUT', '/event-hooks/sources/shop/order', {
      fields: [payload('field')],
      description: payload('source-description'),
    });
    expect(source.status).toBe(200);
    const event = await t.request('POST', '/events', {
      source: 'crud',
      event: 'consumers',
      data: { username: payload('event-data') },
    });
    expect(event.status).toBe(202);
    await expect
      .poll(async () => (await t.request('GET', '/dead-letters')).body.data.length, { timeout: 10_000 })
      .toBe(1);
    const base = `${t.runtime.url}/console/`;

    // Act: the hook's page, its settings and a test run answered by the hostile receiver
    await page.goto(`${base}#/hooks/${hook.body.id}`);
    await page.getByText('Configuration').click();
    await page.getByLabel('Test event data (JSON)').fill(JSON.stringify({ username: payload('test-data') }));
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByLabel('Result of the test or ping');
    await result.waitFor();
    const resultText = await result.textContent();
    const configText = await page.getByLabel('Hook configuration').textContent();
    // The dead letters (event data), the sources (description, fields), the list.
    await page.goto(`${base}?2#/dead-letters`);
    await page.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
    const deadLetterText = await page.locator('main').textContent();
    await page.goto(`${base}?3#/sources`);
    await page.getByRole('heading', { level: 1, name: 'Sources' }).waitFor();
    const sourcesText = await page.locator('main').textContent();
    await page.goto(`${base}?4#/hooks`);
    await page.getByRole('heading', { level: 1, name: 'Event hooks' }).waitFor();
    await page.waitForLoadState('networkidle');

    // Assess: every payload is on screen as the text it is, and none ran
    expect(resultText).toContain(asJson('response-body'));
    expect(resultText).toContain(asJson('header'));
    expect(resultText).toContain(asJson('test-data'));
    expect(configText).toContain(asJson('hook-name'));
    expect(deadLetterText).toContain(asJson('event-data'));
    expect(sourcesText).toContain(payload('source-description'));
    expect(sourcesText).toContain(payload('field'));
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('main img, main script, main svg').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });
});
