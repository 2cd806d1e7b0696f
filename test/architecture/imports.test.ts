import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/../CONTRIBUTING.md, held by the import graph itself:
 * - no import cycle anywhere in the project's source (type-only imports count: a cycle of types is
 *   still two modules that cannot be understood apart);
 * - the core (`shared/`) never imports the runtimes (`infra/`) or the CLI (`bin/`);
 * - the domain (everything in `shared/` but `adapters/` and the composition roots) never imports an adapter.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['shared', 'infra', 'bin', 'console'];
const COMPOSITION_ROOTS = new Set(['shared/compositionRoot.ts']);

function sourceFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : sourceFiles(path);
    return /\.(ts|tsx|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of a file (static, dynamic, re-exports, type-only), resolved to project paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] as string);
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) =>
      relative(ROOT, resolve(ROOT, dirname(file), specifier))
        .split('\\')
        .join('/'),
    );
}

const files = SOURCE_DIRS.flatMap(sourceFiles);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe('the import graph', () => {
  it('sees the project (a walk that found nothing would pass every rule)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('shared/composition/adminSurface.ts')).toContain('shared/admin/router.ts');
  });

  it('has no cycle', () => {
    expect(cycles().map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps the core free of the runtimes and the CLI', () => {
    const offending = [...graph].flatMap(([file, imports]) =>
      file.startsWith('shared/')
        ? imports
            .filter((target) => target.startsWith('infra/') || target.startsWith('bin/'))
            .map((t) => `${file} → ${t}`)
        : [],
    );
    expect(offending).toEqual([]);
  });

  it('keeps the domain free of adapters: only the adapters and the composition root wire them', () => {
    const offending = [...graph].flatMap(([file, imports]) =>
      file.startsWith('shared/') && !file.startsWith('shared/adapters/') && !COMPOSITION_ROOTS.has(file)
        ? imports.filter((target) => target.startsWith('shared/adapters/')).map((t) => `${file} → ${t}`)
        : [],
    );
    expect(offending).toEqual([]);
  });
});
