import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunctions, bundleFunctionsSync, DEFAULT_ENTRIES } from '../../infra/bundle.ts';
import { CONSOLE_CSP } from '../../shared/console/consoleSite.ts';

// Outside the project, so the bundle finds nothing of the sources: it must carry the console itself.
const scratch = mkdtempSync(join(tmpdir(), 'console-bundle-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The admin bundle's answer to an HTTP API (v2) event, loaded as Lambda loads it, in a fresh process. */
function invokeAdmin(file: string, method: string, path: string) {
  const event = { rawPath: path, rawQueryString: '', headers: {}, requestContext: { http: { method, path } } };
  const script = `const m = await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(JSON.stringify(await m.handler(${JSON.stringify(event)}, {})));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: scratch }).toString());
}

describe('the admin bundle and the web console', () => {
  it('carries the console in console/ and serves it at /console with the Content-Security-Policy', async () => {
    // Act
    const [admin] = await bundleFunctions({ entries: { admin: DEFAULT_ENTRIES.admin }, outDir: join(scratch, 'a') });
    const script = invokeAdmin(admin!.file, 'GET', '/console/app.js');
    const page = invokeAdmin(admin!.file, 'GET', '/console/');
    const missing = invokeAdmin(admin!.file, 'GET', '/console/nothing.js');

    // Assess
    const consoleDir = join(scratch, 'a', 'admin', 'console');
    expect(readFileSync(join(consoleDir, 'index.html'), 'utf8')).toContain('<script src="app.js" defer></script>');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Buffer.from(script.body, 'base64').equals(readFileSync(join(consoleDir, 'app.js')))).toBe(true);
    expect(Buffer.from(page.body, 'base64').toString()).toContain('<title>event-hooks console</title>');
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ message: 'Not found' });
  });

  it('writes the same console files when bundling synchronously, as the CDK construct does', async () => {
    // Act
    bundleFunctionsSync({ entries: { admin: DEFAULT_ENTRIES.admin }, outDir: join(scratch, 'b') });

    // Assess
    for (const file of ['index.html', 'app.js', 'app.css']) {
      const synchronous = readFileSync(join(scratch, 'b', 'admin', 'console', file));
      expect(synchronous.equals(readFileSync(join(scratch, 'a', 'admin', 'console', file))), file).toBe(true);
    }
  });
});
