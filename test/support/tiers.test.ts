import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Server } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import config from '../../vitest.config.ts';
import {
  classifyTests,
  DIRECTORY_TIERS,
  listTestFiles,
  markersIn,
  SOURCE_PROCESS_MODULES,
  TIERS,
  TIERS_TEST,
  testSources,
  tierOfSource,
} from './tiers.ts';
import { takeUnitTierRefusals } from './unitTierGuard.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.(ts|mjs|js)$/.test(entry.name)) {
      files.push(relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'));
    }
  }
  return files;
}

describe('test tiers', () => {
  afterEach(() => {
    takeUnitTierRefusals();
  });

  it('puts every test file in exactly one tier, and the vitest projects run exactly those', () => {
    // Prepare
    const tiers = classifyTests(root);
    const projects = (config.test?.projects ?? []) as { test: { name: string; include: string[] } }[];

    // Act
    const all = TIERS.flatMap((tier) => tiers[tier]);

    // Assess
    expect(all.sort()).toEqual(listTestFiles(root));
    expect(new Set(all).size).toBe(all.length);
    expect(projects.map((p) => p.test.name)).toEqual([...TIERS]);
    for (const project of projects) expect(project.test.include).toEqual(tiers[project.test.name as never]);
    expect(tiers.unit.length).toBeGreaterThan(10);
  });

  it('has no unit-tier test file, nor a test helper it imports, that uses a server, process, store or CDK marker', () => {
    // Prepare
    const { unit } = classifyTests(root);

    // Act
    const offenders = unit
      .filter((file) => file !== TIERS_TEST)
      .map((file) => ({ file, markers: testSources(root, file).flatMap(markersIn) }))
      .filter(({ markers }) => markers.length > 0);

    // Assess
    expect(offenders).toEqual([]);
    for (const { prefix } of DIRECTORY_TIERS) expect(unit.filter((f) => f.startsWith(prefix))).toEqual([]);
  });

  it('recognises each kind of marker, and plain code as unit', () => {
    expect(tierOfSource("import { startTestStore } from '../../support/store.ts';")).toBe('integration');
    expect(tierOfSource("import { startTestRuntime } from '../../support/runtime.ts';")).toBe('integration');
    expect(tierOfSource("import { execFile } from 'node:child_process';")).toBe('integration');
    expect(tierOfSource('const server = http.createServer(handler);')).toBe('integration');
    expect(
      tierOfSource("import { createLocalFunctionRunner } from '../shared/adapters/local/functionRunner.ts';"),
    ).toBe('integration');
    expect(tierOfSource("import { Template } from 'aws-cdk-lib/assertions';")).toBe('infra');
    expect(tierOfSource('await bundleFunctions(out);')).toBe('infra');
    expect(tierOfSource("import { decideRetry } from '../../shared/delivery/retryPolicy.ts';\n/a/.exec(s);")).toBe(
      'unit',
    );
  });

  it('lists every project source file that starts processes or servers, so importing it leaves the unit tier', () => {
    // Prepare
    const starts = /['"](node:)?child_process['"]|\.listen\(|createServer\(/;

    // Act
    const found = ['shared', 'infra', 'functions', 'bin']
      .flatMap(sourceFiles)
      .filter((file) => !file.startsWith('infra/cdk/') && starts.test(readFileSync(join(root, file), 'utf8')));

    // Assess
    expect(found.length).toBeGreaterThan(0);
    expect(found.filter((file) => !SOURCE_PROCESS_MODULES.includes(file))).toEqual([]);
  });

  it('refuses a server socket in the unit tier, and says which tier the test belongs to', () => {
    // Act
    const listen = () => new Server().listen(0);

    // Assess
    expect(listen).toThrow(/unit tier may not listen.*integration tier/);
    expect(takeUnitTierRefusals()).toHaveLength(1);
  });

  it('refuses a child process in the unit tier', () => {
    // Act
    const start = () => spawn(process.execPath, ['-e', '']);

    // Assess
    expect(start).toThrow(/unit tier may not start a child process/);
    expect(takeUnitTierRefusals()).toHaveLength(1);
  });
});
