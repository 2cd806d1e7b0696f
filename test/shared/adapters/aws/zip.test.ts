import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createZip } from '../../../../shared/adapters/aws/zip.ts';

const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeArchive(name: string, bytes: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('createZip', () => {
  it('writes an archive that the system unzip reads back byte for byte', () => {
    // Prepare: one compressible text file, one incompressible binary, one UTF-8 name
    const text = `export const handler = async () => ${JSON.stringify('x'.repeat(2000))};\n`;
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 251));
    const file = writeArchive(
      'a.zip',
      createZip([
        { name: 'index.mjs', content: text },
        { name: 'data/blob.bin', content: binary },
        { name: 'ünïcode.txt', content: 'héllo' },
      ]),
    );

    // Act
    const test = execFileSync('unzip', ['-t', file]).toString();
    const index = execFileSync('unzip', ['-p', file, 'index.mjs']).toString();
    const blob = execFileSync('unzip', ['-p', file, 'data/blob.bin']);

    // Assess
    expect(test).toContain('No errors detected');
    expect(index).toBe(text);
    expect(Buffer.compare(blob, binary)).toBe(0);
  });

  it('is read by python zipfile with names, sizes, compression and unix permissions intact', () => {
    // Prepare
    const file = writeArchive(
      'b.zip',
      createZip([
        { name: 'index.mjs', content: 'a'.repeat(10_000) },
        { name: 'tiny.txt', content: 'x' },
        { name: 'run.sh', content: '#!/bin/sh\n', mode: 0o755 },
      ]),
    );
    const script = [
      'import json, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1])',
      'assert z.testzip() is None',
      'print(json.dumps([[i.filename, i.file_size, i.compress_type, (i.external_attr >> 16) & 0o777, z.read(i.filename).decode()[:3]] for i in z.infolist()]))',
    ].join('\n');

    // Act
    const listing = JSON.parse(execFileSync('python3', ['-c', script, file]).toString());

    // Assess: compressible content is deflated (8), one byte is stored (0)
    expect(listing).toEqual([
      ['index.mjs', 10_000, 8, 0o644, 'aaa'],
      ['tiny.txt', 1, 0, 0o644, 'x'],
      ['run.sh', 10, 0, 0o755, '#!/'],
    ]);
  });

  it('gives the same bytes for the same files, so an unchanged package hashes the same', () => {
    // Act
    const first = createZip([{ name: 'index.mjs', content: 'same' }]);
    const second = createZip([{ name: 'index.mjs', content: 'same' }]);
    const other = createZip([{ name: 'index.mjs', content: 'different' }]);

    // Assess
    expect(first.equals(second)).toBe(true);
    expect(first.equals(other)).toBe(false);
  });

  it('refuses names that would escape the folder, duplicates and empty archives', () => {
    expect(() => createZip([{ name: '../evil', content: '' }])).toThrow(RangeError);
    expect(() => createZip([{ name: '/abs', content: '' }])).toThrow(RangeError);
    expect(() =>
      createZip([
        { name: 'a', content: '' },
        { name: 'a', content: '' },
      ]),
    ).toThrow(/duplicate/);
    expect(() => createZip([])).toThrow(RangeError);
  });
});
