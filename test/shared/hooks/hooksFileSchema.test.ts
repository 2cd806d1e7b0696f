import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HooksFile, hooksFileJsonSchema } from '../../../shared/hooks/hooksFileSchema.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const check = TypeCompiler.Compile(HooksFile);
const example = () => parse(readFileSync(join(ROOT, 'test/fixtures/hooks-files/hooks.yaml'), 'utf8'));

/** The paths the schema refuses, or `[]`. */
const refusals = (value: unknown) => [...check.Errors(value)].map((e) => e.path);

describe('the hooks file JSON Schema', () => {
  it('is committed as TypeBox emits it (regenerate: npx tsx tools/hooksFileSchema.ts)', () => {
    // Compared as JSON: the committed file is laid out by the formatter.
    expect(JSON.parse(readFileSync(join(ROOT, 'schemas/hooks-file.schema.json'), 'utf8'))).toEqual(
      JSON.parse(hooksFileJsonSchema()),
    );
  });

  it('accepts the documented example: every handler, a filter, a threshold, references, enabled', () => {
    const hooks = example();
    expect(hooks).toHaveLength(5);
    expect(refusals(hooks)).toEqual([]);
    // The editor line the docs show points at the committed schema.
    expect(readFileSync(join(ROOT, 'test/fixtures/hooks-files/hooks.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/\.\.\/\.\.\/schemas\/hooks-file\.schema\.json$/m,
    );
  });

  it('accepts a hook as the Admin API answers it, every field present', () => {
    const hook = {
      id: '6B9A4F0E-3C1D-4E2F-9A8B-7C6D5E4F3A2B',
      created_at: 1_700_000_000,
      source: 'crud',
      event: null,
      handler: 'webhook',
      on_change: null,
      snooze: null,
      filter: null,
      threshold: null,
      config: { url: 'https://example.com', headers: {}, secret: null, ssl_verify: false },
    };
    expect(refusals([hook])).toEqual([]);
    // `enabled` (beyond Kong, default true) is optional, as the service answers it once it has it.
    expect(refusals([{ ...hook, enabled: false }])).toEqual([]);
    expect(check.Check([{ ...hook, enabled: 'no' }])).toBe(false);
  });

  it('refuses what the service would refuse by shape: no id, unknown fields, a config for another handler, bad bounds', () => {
    const [webhook, custom, log, rate] = example();
    const without = (value: Record<string, unknown>, key: string) =>
      Object.fromEntries(Object.entries(value).filter(([k]) => k !== key));
    for (const bad of [
      without(webhook, 'id'),
      { ...webhook, id: 'not-a-uuid' },
      { ...webhook, nope: true },
      { ...webhook, config: { ...webhook.config, url: undefined } },
      { ...webhook, config: { ...webhook.config, signing: 'hmac' } },
      { ...custom, config: { ...custom.config, method: 'FETCH' } },
      { ...log, config: { url: 'https://example.com' } },
      { ...log, handler: 'lua' },
      { ...rate, threshold: { count: 0, window: 300 } },
      { ...rate, snooze: -1 },
      { ...rate, filter: ['prefix'] },
      { id: webhook.id, source: 'crud', handler: 'lambda', config: { functions: [] } },
    ]) {
      expect(check.Check([bad]), JSON.stringify(bad)).toBe(false);
    }
    expect(check.Check({ data: [] })).toBe(false);
  });
});
