import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../shared/console/consoleSite.ts';
import { launchChromium, SKIP_BROWSER, seriousViolations, watchedPage } from '../support/browser.ts';
import { closedPort } from '../support/rawReceiver.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const FAST_RETRIES = {
  RETRY_MAX_ATTEMPTS: '2',
  RETRY_BASE_DELAY_MS: '20',
  RETRY_MAX_DELAY_MS: '50',
  HTTP_TIMEOUT_MS: '1000',
};

/** The budget the issue sets for the first page's script, gzipped. */
const SCRIPT_BUDGET_BYTES = 150 * 1024;

describe.skipIf(SKIP_BROWSER)('web console (chromium)', () => {
  let t: TestRuntime;
  let receiver: Receiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let loads = 0;
  // A query of its own each time: a URL that differs from the current one only by its fragment would
  // not load the page again.
  const consoleUrl = (route = '') => `${t.runtime.url}/console/?load=${++loads}${route ? `#${route}` : ''}`;

  /** The hook the form test created, or one made here when a test runs alone (`-t`). */
  const aHook = async () => {
    const [first] = (await t.request('GET', '/event-hooks')).body.data;
    if (first) return first;
    const config = { url: receiver.url };
    return (await t.request('POST', '/event-hooks', { source: 'crud', event: 'consumers', handler: 'webhook', config }))
      .body;
  };

  beforeAll(async () => {
    [t, receiver, browser] = await Promise.all([
      startTestRuntime({ env: FAST_RETRIES }),
      startReceiver(() => ({ status: 200, body: 'thanks' })),
      launchChromium(),
    ]);
    context = await browser.newContext();
    ({ page, errors } = await watchedPage(context));
    page.setDefaultTimeout(5_000);
  });

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.close();
  });

  it('serves the page, its script and its style sheet with the Content-Security-Policy, the script under budget', async () => {
    // Act
    const [html, script, style, bare] = await Promise.all(
      ['/console/', '/console/app.js', '/console/app.css', '/console'].map((path) =>
        fetch(`${t.runtime.url}${path}`, { redirect: 'manual' }),
      ),
    );
    const scriptBytes = Buffer.from(await (script as Response).arrayBuffer());

    // Assess
    for (const response of [html, script, style, bare] as Response[]) {
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'",
      );
    }
    expect(CONSOLE_CSP).toBe(html?.headers.get('content-security-policy'));
    expect(html?.status).toBe(200);
    expect(html?.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html?.text()).toContain('<script src="app.js" defer></script>');
    expect(script?.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(style?.headers.get('content-type')).toMatch(/^text\/css/);
    expect(bare?.status).toBe(302);
    expect(bare?.headers.get('location')).toBe('/console/');
    const gzipped = gzipSync(scriptBytes).length;
    console.info(`console script: ${scriptBytes.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeGreaterThan(10_000);
    expect(gzipped).toBeLessThanOrEqual(SCRIPT_BUDGET_BYTES);
  });

  it('loads nothing but its own origin: the page makes no request elsewhere', async () => {
    // Prepare
    const foreign: string[] = [];
    const listener = (request: { url(): string }) => {
      if (!request.url().startsWith(t.runtime.url)) foreign.push(request.url());
    };
    page.on('request', listener);

    // Act
    await page.goto(consoleUrl('/hooks'));
    await page.getByRole('heading', { level: 1, name: 'Event hooks' }).waitFor();
    page.off('request', listener);

    // Assess
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('creates a hook in the form: a validation error shows next to its field, and the fixed hook is saved', async () => {
    // Prepare
    await page.goto(consoleUrl('/hooks/new'));
    await page.getByLabel('Handler').selectOption('webhook');
    await page.getByLabel('Event', { exact: true }).fill('consumers');
    await page.getByLabel('URL').fill('not a url');

    // Act
    await page.getByRole('button', { name: 'Create hook' }).click();
    const fieldError = page.locator('#field-config-url-error');
    await fieldError.waitFor();

    // Assess
    expect(await fieldError.textContent()).toMatch(/url/i);
    expect(await page.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('URL').getAttribute('aria-describedby')).toContain('field-config-url-error');
    expect((await t.request('GET', '/event-hooks')).body.data).toEqual([]);

    // Act: fixed
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Create hook' }).click();
    await page.getByRole('heading', { level: 1, name: 'Hook crud / consumers' }).waitFor();

    // Assess
    const hooks = (await t.request('GET', '/event-hooks')).body.data;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ source: 'crud', event: 'consumers', handler: 'webhook' });
    expect(hooks[0].config.url).toBe(receiver.url);
    expect(page.url()).toContain(`#/hooks/${hooks[0].id}`);
  });

  it('edits a hook: the form starts from the hook, and saving keeps what the form does not show', async () => {
    // Prepare
    const created = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'services',
      handler: 'webhook',
      threshold: { count: 3, window: 60 },
      config: { url: receiver.url, headers: { 'x-team': 'ops' } },
    });
    expect(created.status).toBe(201);
    await page.goto(consoleUrl(`/hooks/${created.body.id}/edit`));
    await page.getByRole('heading', { level: 1, name: 'Edit hook' }).waitFor();
    await expect.poll(() => page.getByLabel('URL').inputValue()).toBe(receiver.url);

    // Act
    await page.getByLabel('Snooze (seconds)').fill('30');
    await page.getByRole('button', { name: 'Save hook' }).click();
    await page.getByRole('heading', { level: 1, name: 'Hook crud / services' }).waitFor();

    // Assess
    const saved = (await t.request('GET', `/event-hooks/${created.body.id}`)).body;
    expect(saved).toMatchObject({
      snooze: 30,
      threshold: { count: 3, window: 60 },
      created_at: created.body.created_at,
    });
    expect(saved.config.headers).toEqual({ 'x-team': 'ops' });
    await t.request('DELETE', `/event-hooks/${created.body.id}`);
  });

  it('disables and enables a hook from its page', async () => {
    // Prepare
    const hook = await aHook();
    await page.goto(consoleUrl(`/hooks/${hook.id}`));

    // Act
    await page.getByRole('button', { name: 'Disable hook' }).click();
    await page.getByRole('button', { name: 'Enable hook' }).waitFor();
    const disabled = (await t.request('GET', `/event-hooks/${hook.id}`)).body.enabled;
    await page.getByRole('button', { name: 'Enable hook' }).click();
    await page.getByRole('button', { name: 'Disable hook' }).waitFor();

    // Assess
    expect(disabled).toBe(false);
    expect((await t.request('GET', `/event-hooks/${hook.id}`)).body.enabled).toBe(true);
  });

  it('filters the hook list by source and handler, and keeps the filter in the URL', async () => {
    // Prepare
    await aHook();
    const log = await t.request('POST', '/event-hooks', { source: 'balancer', event: 'health', handler: 'log' });
    await page.goto(consoleUrl('/hooks'));
    const caption = page.getByRole('table').locator('caption');
    await caption.waitFor();
    const total = (await t.request('GET', '/event-hooks')).body.data.length;

    // Act
    await page.getByLabel('Handler').selectOption('log');
    const byHandler = await caption.textContent();
    await page.getByLabel('Source').selectOption('crud');
    const none = await caption.textContent();
    await page.getByLabel('Source').selectOption('balancer');
    const url = page.url();
    await page.reload();
    await caption.waitFor();

    // Assess
    expect(byHandler).toBe(`1 of ${total} hooks`);
    expect(none).toBe(`0 of ${total} hooks`);
    expect(url).toMatch(/#\/hooks\?source=balancer&handler=log$/);
    expect(await caption.textContent()).toBe(`1 of ${total} hooks`);
    expect(await page.getByLabel('Source').inputValue()).toBe('balancer');
    await t.request('DELETE', `/event-hooks/${log.body.id}`);
  });

  it('tests and pings a hook from its page, showing the answers', async () => {
    // Prepare
    const hook = await aHook();
    await page.goto(consoleUrl(`/hooks/${hook.id}`));
    await page.getByRole('heading', { level: 1, name: 'Hook crud / consumers' }).waitFor();
    const sent = receiver.requests.length;

    // Act
    await page.getByLabel('Test event data (JSON)').fill('{"entity":{"username":"ann"}}');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByLabel('Result of the test or ping');
    await result.waitFor();

    // Assess
    expect(await result.textContent()).toContain('thanks');
    await receiver.waitFor(sent + 1);
    expect(JSON.parse(receiver.requests[sent]?.body.toString() ?? '{}')).toMatchObject({ entity: { username: 'ann' } });

    // Act
    await page.getByRole('button', { name: 'Ping' }).click();
    await receiver.waitFor(sent + 2);
  });

  it('sends an event from the Events page; the hook delivers it, and its lookup says it was queued for the hook', async () => {
    // Prepare
    await aHook();
    const before = receiver.requests.length;
    await page.goto(consoleUrl('/events'));
    const form = page.locator('form.send-event');

    // Act
    await form.getByLabel('Data (JSON)').fill('{not json');
    await form.getByRole('button', { name: 'Send event' }).click();
    const localError = await page.locator('#field-data-error').textContent();
    await form.getByLabel('Data (JSON)').fill('{"entity":{"username":"from-the-console"}}');
    await form.getByRole('button', { name: 'Send event' }).click();
    const accepted = page.getByRole('status').filter({ hasText: 'Accepted as' });
    await accepted.waitFor();
    const delivered = await receiver.waitFor(before + 1);

    // Act: the event's lookup, once dispatched (a reload until then)
    const hook = await aHook();
    const href = (await accepted.getByRole('link').getAttribute('href')) ?? '';
    const outcome = page
      .getByRole('table', { name: 'What happened per hook' })
      .getByRole('row')
      .filter({ hasText: hook.id });
    await expect
      .poll(
        async () => {
          await page.goto(consoleUrl(href.slice(1)));
          await page.getByRole('heading', { level: 1, name: 'Events' }).waitFor();
          await page.getByText(/Loading/).waitFor({ state: 'detached' });
          return outcome.count();
        },
        { timeout: 10_000 },
      )
      .toBe(1);

    // Assess
    expect(localError).toMatch(/not valid JSON/);
    expect(delivered.some((r) => r.body.toString().includes('from-the-console'))).toBe(true);
    expect(href).toMatch(/^#\/events\/[\w-]+$/);
    expect(await outcome.textContent()).toContain('queued for delivery');
    expect(await page.getByLabel('Event data').textContent()).toContain('from-the-console');
  });

  it('renders the webhook-custom template as the server renders it, on every keystroke', async () => {
    // Prepare
    await page.goto(consoleUrl('/hooks/new'));
    await page.getByLabel('Handler').selectOption('webhook-custom');

    // Act
    await page
      .getByLabel('Body template')
      .fill('{"user":"{{ entity.username }}","op":"{{ operation }}","src":"{{ source }}"}');

    // Assess
    const rendered = page.getByLabel('Rendered body');
    await expect.poll(() => rendered.textContent()).toBe('{"user":"ann","op":"create","src":"crud"}');

    // Act
    await page.getByLabel('Sample event data (JSON)').fill('{"entity":{"username":"<b>bob</b>"},"operation":"delete"}');

    // Assess: HTML-escaped, as Kong's templates escape {{ }}
    await expect.poll(() => rendered.textContent()).toContain('&lt;b&gt;bob&lt;');
  });

  it('says a route is not available when the deployment answers 404 for it', async () => {
    // Prepare
    const hook = await aHook();
    await page.route('**/deliveries**', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: '{"message":"Not found"}' }),
    );

    // Act
    await page.goto(consoleUrl(`/hooks/${hook.id}`));
    const note = page.getByText('Delivery history is not available in this deployment.');

    // Assess
    await note.waitFor();
    await page.unroute('**/deliveries**');
  });

  it('creates a hook in the form, sends an event, watches its delivery appear with its attempts, and replays it', async () => {
    // Prepare
    const flaky = await startReceiver(() => ({ status: 200, body: 'accepted' }));
    try {
      await page.goto(consoleUrl('/hooks/new'));
      await page.getByLabel('Handler').selectOption('webhook');
      await page.getByLabel('Event', { exact: true }).fill('upstreams');
      await page.getByLabel('URL').fill('ftp://nowhere');
      await page.getByRole('button', { name: 'Create hook' }).click();
      await page.locator('#field-config-url-error').waitFor();
      await page.getByLabel('URL').fill(flaky.url);
      await page.getByRole('button', { name: 'Create hook' }).click();
      await page.getByRole('heading', { level: 1, name: 'Hook crud / upstreams' }).waitFor();

      const hookUrl = page.url();

      // Act: an event sent from the Events page, then the hook's deliveries table as it fills
      await page.goto(consoleUrl('/events'));
      const form = page.locator('form.send-event');
      await form.getByLabel('Event', { exact: true }).fill('upstreams');
      await form.getByLabel('Data (JSON)').fill('{"name":"api"}');
      await form.getByRole('button', { name: 'Send event' }).click();
      await page.getByRole('status').filter({ hasText: 'Accepted as' }).waitFor();
      await flaky.waitFor(1);
      await page.goto(hookUrl);
      const row = page
        .getByRole('table', { name: /^Deliveries of hook/ })
        .getByRole('row')
        .filter({ hasText: 'delivered' });
      await expect
        .poll(
          async () => {
            await page.getByRole('button', { name: 'Refresh deliveries' }).click();
            return row.count();
          },
          { timeout: 10_000 },
        )
        .toBe(1);
      await row.getByRole('button', { name: 'Show attempts' }).click();
      const attempts = page.getByRole('table', { name: /^Attempts of delivery/ });
      await attempts.waitFor();
      const attemptsText = await attempts.textContent();
      await row.getByRole('button', { name: 'Replay' }).click();
      await page.getByText(/queued again/).waitFor();
      const replayed = await flaky.waitFor(2);

      // Assess
      expect(attemptsText).toContain('200');
      expect(attemptsText).toContain('accepted');
      expect(await attempts.getByRole('row').count()).toBe(2); // the header and the attempt
      expect(JSON.parse(replayed[1]?.body.toString() ?? '{}')).toMatchObject({ name: 'api' });
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await flaky.close();
    }
  });

  it("plots deliveries by outcome and latency, opens a delivery's attempts and replays it, from answers shaped as the delivery log gives them", async () => {
    // Prepare: the delivery log's answers (issue 12's shapes), whatever this deployment has
    const hook = await aHook();
    const now = Math.floor(Date.now() / 1000);
    const deliveries = ['delivered', 'dead', 'delivered', 'retrying'].map((status, i) => ({
      id: `d-${i}`,
      event_id: `e-${i}`,
      hook_id: hook.id,
      status,
      attempts: i + 1,
      last_status_code: status === 'delivered' ? 200 : 503,
      last_error: status === 'delivered' ? null : 'HTTP 503',
      created_at: now - i * 600,
      updated_at: now - i * 600 + 2,
    }));
    const attempts = (id: string) => ({
      ...deliveries.find((d) => d.id === id),
      attempts: [
        {
          attempt: 1,
          started_at: now - 60,
          latency_ms: 41,
          status_code: 503,
          error: 'HTTP 503',
          response_headers: { 'retry-after': '1' },
          response_body: 'busy, try later',
        },
        {
          attempt: 2,
          started_at: now - 30,
          latency_ms: 12,
          status_code: 200,
          error: null,
          response_headers: {},
          response_body: 'ok',
        },
      ],
    });
    const replays: string[] = [];
    await page.route(
      (url) => url.pathname.endsWith('/deliveries') || url.pathname.startsWith('/deliveries/'),
      (route) => {
        const { pathname } = new URL(route.request().url());
        const reply = (status: number, body: unknown) =>
          route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
        if (pathname.endsWith('/replay')) {
          replays.push(pathname);
          return reply(202, deliveries[1]);
        }
        if (pathname.startsWith('/deliveries/'))
          return reply(200, attempts(decodeURIComponent(pathname.split('/')[2] ?? '')));
        return reply(200, { data: deliveries, next: null });
      },
    );

    try {
      // Act
      await page.goto(consoleUrl(`/hooks/${hook.id}`));
      await page.getByRole('table', { name: /Deliveries of hook/ }).waitFor();
      await page.getByText('Latency of each attempt').waitFor();
      // uPlot draws each plot as its answer arrives: wait for the second canvas, then count them all.
      await page.locator('figure.plot canvas').nth(1).waitFor();
      const plots = await page.locator('figure.plot canvas').count();
      await page.getByRole('button', { name: 'Show attempts' }).nth(1).click();
      const attemptsTable = page.getByRole('table', { name: 'Attempts of delivery d-1' });
      await attemptsTable.waitFor();
      const attemptsText = await attemptsTable.textContent();
      await page.getByRole('button', { name: 'Replay' }).nth(1).click();
      await page.getByText('Delivery d-1 queued again.').waitFor();

      // Assess
      expect(plots).toBe(2);
      expect(await page.getByRole('img', { name: 'Deliveries over time by outcome' }).count()).toBe(1);
      expect(attemptsText).toContain('busy, try later');
      expect(attemptsText).toContain('41 ms');
      expect(attemptsText).toContain('retry-after');
      expect(replays).toEqual(['/deliveries/d-1/replay']);
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await page.unroute(() => true);
    }
  });

  it('replays every dead letter shown, one by one, with progress', async () => {
    // Prepare: a hook whose receiver is gone, and three events for it
    const gone = await t.request('POST', '/event-hooks', {
      source: 'crud',
      event: 'routes',
      handler: 'webhook',
      config: { url: `http://127.0.0.1:${await closedPort()}/` },
    });
    for (let i = 0; i < 3; i++) {
      await t.request('POST', '/events', { source: 'crud', event: 'routes', data: { n: i } });
    }
    await expect
      .poll(async () => (await t.request('GET', '/dead-letters')).body.data.length, { timeout: 10_000 })
      .toBe(3);
    const replayed: string[] = [];
    const listener = (request: { method(): string; url(): string }) => {
      if (request.method() === 'POST' && request.url().endsWith('/replay')) replayed.push(request.url());
    };
    page.on('request', listener);

    // Act
    await page.goto(consoleUrl('/dead-letters'));
    await page.getByRole('button', { name: 'Replay all shown (3)' }).click();
    await page.getByText('Replayed 3 of 3.').waitFor();
    page.off('request', listener);

    // Assess
    expect(await page.getByRole('progressbar', { name: 'Replay progress' }).getAttribute('value')).toBe('3');
    expect(new Set(replayed).size).toBe(3);
    await t.request('DELETE', `/event-hooks/${gone.body.id}`);
  });

  it('adds and removes a user-defined source event, with field errors from the API', async () => {
    // Prepare
    await page.goto(consoleUrl('/sources'));
    await page.getByRole('heading', { name: 'Add an event' }).waitFor();
    const form = page.locator('form.add-source');

    // Act: a name the API refuses
    await form.getByLabel('Source').fill('bad name!');
    await form.getByLabel('Event').fill('created');
    await form.getByLabel('Fields').fill('id, total');
    await form.getByRole('button', { name: 'Add event' }).click();
    await page.locator('#field-source-error').waitFor();

    // Act: fixed
    await form.getByLabel('Source').fill('billing');
    await form.getByRole('button', { name: 'Add event' }).click();
    await page.getByRole('table', { name: 'Events of billing' }).waitFor();
    const added = (await t.request('GET', '/event-hooks/sources/billing/created')).body;
    await page.getByRole('button', { name: 'Remove event created of billing' }).click();
    await page.getByText('Removed billing / created.').waitFor();

    // Assess
    expect(added).toEqual({ data: { fields: ['id', 'total'] } });
    expect((await t.request('GET', '/event-hooks/sources/billing/created')).status).toBe(404);
  });

  it('asks for an API key when the API answers 401, sends it as a bearer token and keeps it in sessionStorage only', async () => {
    // Prepare: a deployment that wants a key, as the tenancy edge answers
    const authorizations: (string | undefined)[] = [];
    await page.route('**/event-hooks?**', async (route) => {
      const authorization = route.request().headers().authorization;
      authorizations.push(authorization);
      if (authorization !== 'Bearer k-123') {
        return route.fulfill({ status: 401, contentType: 'application/json', body: '{"message":"Unauthorized"}' });
      }
      return route.continue();
    });

    // Act
    await page.goto(consoleUrl('/hooks'));
    await page.getByRole('heading', { name: 'API key needed' }).waitFor();
    await page.getByLabel('API key', { exact: true }).fill('k-123');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page
      .getByRole('caption')
      .filter({ hasText: /hooks$/ })
      .waitFor();

    // Assess
    expect(authorizations[0]).toBeUndefined();
    expect(authorizations.at(-1)).toBe('Bearer k-123');
    const storage = await page.evaluate(
      "({ session: sessionStorage.getItem('event-hooks.api-key'), local: localStorage.length, cookie: document.cookie })",
    );
    expect(storage).toEqual({ session: 'k-123', local: 0, cookie: '' });
    expect(await page.getByRole('heading', { name: 'API key needed' }).count()).toBe(0);

    await page.unroute('**/event-hooks?**');
    await page.getByRole('button', { name: 'Forget API key' }).click();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it("asks for a key too when API Gateway's authorizer refuses the request (403 Forbidden on AWS), not when a key lacks a scope", async () => {
    // Prepare
    let answer = { status: 403, body: '{"message":"Forbidden"}' };
    await page.route('**/event-hooks?**', (route) =>
      route.fulfill({ status: answer.status, contentType: 'application/json', body: answer.body }),
    );

    try {
      // Act
      await page.goto(consoleUrl('/hooks'));
      await page.getByRole('heading', { name: 'API key needed' }).waitFor();
      answer = { status: 403, body: '{"message":"Forbidden: this key lacks the scope this route needs"}' };
      await page.getByLabel('API key', { exact: true }).fill('k-read-only');
      await page.getByRole('button', { name: 'Use this key' }).click();
      await page.getByRole('alert').filter({ hasText: 'lacks the scope' }).waitFor();

      // Assess
      expect(await page.getByRole('heading', { name: 'API key needed' }).count()).toBe(0);
    } finally {
      await page.unroute('**/event-hooks?**');
      await page.getByRole('button', { name: 'Forget API key' }).click();
    }
  });

  it('can be driven by keyboard: focus starts on the page heading, the navigation is a few keys away', async () => {
    // Prepare
    await page.goto(consoleUrl('/hooks'));
    await page.getByRole('heading', { level: 1, name: 'Event hooks' }).waitFor();
    const active = () => page.evaluate('document.activeElement?.textContent');

    // Act
    const start = await active();
    const firstFocusable = await page.evaluate(
      "document.querySelector('a, button, input, select, textarea')?.textContent",
    );
    await page.keyboard.press('Tab');
    const afterHeading = await active();
    await page.keyboard.press('Shift+Tab');
    const backToNav = await active();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Sources' }).waitFor();

    // Assess
    expect(start).toBe('Event hooks');
    expect(firstFocusable).toBe('Skip to content');
    expect(afterHeading).toBe('New hook');
    expect(backToNav).toBe('Sources');
    expect(await active()).toBe('Sources');
  });

  it('has no serious or critical axe-core violations on any page', async () => {
    // Prepare
    const hook = await aHook();
    await t.request('PUT', '/event-hooks/sources/shop/order-placed', { fields: ['order'], description: 'An order' });
    const sent = await t.request('POST', '/events', { source: 'crud', event: 'consumers', data: { id: 1 } });
    const eventId = sent.body.data[0].id;
    await expect.poll(async () => (await t.request('GET', `/events/${eventId}`)).status, { timeout: 10_000 }).toBe(200);
    const pages: [string, string, (() => Promise<void>)?][] = [
      ['/hooks', 'Event hooks'],
      ['/hooks/new', 'New hook'],
      [
        '/hooks/new',
        'New hook',
        () =>
          page
            .getByLabel('Handler')
            .selectOption('webhook-custom')
            .then(() => undefined),
      ],
      [
        '/hooks/new',
        'New hook',
        () =>
          page
            .getByLabel('Handler')
            .selectOption('lambda')
            .then(() => undefined),
      ],
      [`/hooks/${hook.id}`, `Hook ${hook.source} / ${hook.event ?? 'every event'}`],
      [`/hooks/${hook.id}/edit`, 'Edit hook'],
      ['/events', 'Events'],
      ['/events/00000000-0000-4000-8000-000000000000', 'Events'],
      [`/events/${eventId}`, 'Events'],
      ['/dead-letters', 'Dead letters'],
      ['/sources', 'Sources'],
    ];
    const found: Record<string, unknown> = {};

    for (const [route, title, then] of pages) {
      // Act
      await page.goto(consoleUrl(route));
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await then?.();
      // Every request of the page answered: nothing says it is loading. (Polled from the test: a string
      // predicate evaluated in the page would be refused by the page's own Content-Security-Policy.)
      await expect.poll(() => page.locator('main').textContent()).not.toMatch(/Loading|…/);
      const violations = await seriousViolations(page);
      if (violations.length > 0) found[`${route} ${then ? '(variant)' : ''}`] = violations;
    }

    // Assess
    expect(found).toEqual({});
    expect(errors).toEqual([]);
  });
});
