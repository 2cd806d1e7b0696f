import { describe, expect, it } from 'vitest';
import {
  CONSOLE_CSP,
  CONSOLE_PATHS,
  type ConsoleAssets,
  consoleResponse,
  isConsolePath,
  loadOnce,
} from '../../../shared/console/consoleSite.ts';
import { MethodNotAllowedError, NotFoundError } from '../../../shared/errors.ts';

const ASSETS: ConsoleAssets = {
  'index.html': Buffer.from('<!doctype html><title>x</title>'),
  'app.js': Buffer.from('console.log(1)'),
  'app.css': Buffer.from('body{}'),
};
const assets = async () => ASSETS;

describe('consoleResponse', () => {
  it('serves each file with its type and the Content-Security-Policy the issue fixes', async () => {
    // Act
    const page = await consoleResponse('GET', '/console/', assets);
    const script = await consoleResponse('GET', '/console/app.js', assets);
    const style = await consoleResponse('GET', '/console/app.css', assets);

    // Assess
    expect(CONSOLE_CSP).toBe("default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'");
    for (const response of [page, script, style]) {
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toEqual(ASSETS['index.html']);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(style.body.toString()).toBe('body{}');
  });

  it('redirects the bare prefix to the page, so its relative URLs resolve under /console/', async () => {
    // Act
    const response = await consoleResponse('GET', '/console', assets);

    // Assess
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/console/');
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('answers HEAD without a body, refuses other methods (405) and unknown files (404)', async () => {
    // Act
    const head = await consoleResponse('HEAD', '/console/app.js', assets);

    // Assess
    expect(head.statusCode).toBe(200);
    expect(head.body.length).toBe(0);
    await expect(consoleResponse('POST', '/console/', assets)).rejects.toBeInstanceOf(MethodNotAllowedError);
    for (const path of ['/console/other.js', '/console/../app.js', '/console/constructor', '/console/app.js/x']) {
      await expect(consoleResponse('GET', path, assets), path).rejects.toBeInstanceOf(NotFoundError);
    }
    await expect(consoleResponse('GET', '/consoles', assets)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists the paths it answers', () => {
    expect(CONSOLE_PATHS).toEqual([
      '/console',
      '/console/',
      '/console/index.html',
      '/console/app.js',
      '/console/app.css',
    ]);
    expect(CONSOLE_PATHS.every(isConsolePath)).toBe(true);
    expect(isConsolePath('/consoles')).toBe(false);
  });
});

describe('loadOnce', () => {
  it('loads once, and tries again after a failure', async () => {
    // Prepare
    let calls = 0;
    const load = loadOnce(async () => {
      calls += 1;
      if (calls === 1) throw new Error('build failed');
      return ASSETS;
    });

    // Act / Assess
    await expect(load()).rejects.toThrow('build failed');
    expect(await load()).toBe(ASSETS);
    expect(await load()).toBe(ASSETS);
    expect(calls).toBe(2);
  });
});
