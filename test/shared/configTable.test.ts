import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The sources whose environment variables configure `npm start` and the functions. */
const SOURCES = [
  'shared/config.ts',
  'shared/delivery/retryPolicy.ts',
  'shared/logger.ts',
  ...readdirSync(join(ROOT, 'infra', 'local'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `infra/local/${f}`),
];

/**
 * The names a source reads: `env.NAME`, `process.env.NAME`, `env['NAME']`, and the names handed to a
 * reader as a string (`integer(env, 'NAME', …)`, `['NAME', 'field', min]`).
 */
function variablesRead(source: string): string[] {
  const patterns = [
    /\benv\.([A-Z][A-Z0-9_]+)\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
    /\(env, '([A-Z][A-Z0-9_]+)'/g,
    /\[\s*'([A-Z][A-Z0-9_]+)',\s*'\w+',/g,
  ];
  return [...new Set(patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1] as string)))].sort();
}

/** Every backticked name in a row of the README's "## Configuration" table (a row's meaning may name a second one). */
function documented(readme: string): Set<string> {
  const start = readme.indexOf('\n## Configuration');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string)));
}

describe("the README's configuration table", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = documented(readme);

  it('finds the variables a source reads', () => {
    expect(
      variablesRead(
        "const a = process.env.PORT; env.HOST; integer(env, 'HTTP_TIMEOUT_MS', 1); ['RETRY_MAX_ATTEMPTS', 'maxAttempts', 1]",
      ),
    ).toEqual(['HOST', 'HTTP_TIMEOUT_MS', 'PORT', 'RETRY_MAX_ATTEMPTS']);
  });

  it.each(SOURCES)('documents every environment variable %s reads', (file) => {
    const read = variablesRead(readFileSync(join(ROOT, file), 'utf8'));
    expect(read.filter((name) => !table.has(name))).toEqual([]);
  });

  it('covers the variables that configure the local run', () => {
    const all = new Set(SOURCES.flatMap((file) => variablesRead(readFileSync(join(ROOT, file), 'utf8'))));
    for (const name of ['PORT', 'HOST', 'DATA_DIR', 'JOURNAL_FSYNC', 'SWEEP_INTERVAL_MS', 'LOG_LEVEL', 'TENANT'])
      expect(all, name).toContain(name);
  });

  it('documents /health', () => {
    expect(readme).toMatch(/`GET \/health` answers `200 \{"status":"ok"\}`/);
  });
});
