import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const FILL = resolve(import.meta.dirname, '../../../fixtures/journal/fillJournal.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('journal appender on a full disk', () => {
  it('keeps in the file only lines whose appends were answered, when a group write fails partway', () => {
    // Prepare: a file-size limit of 8 KiB, under which a group write of 40 lines of ~600 bytes fails partway
    const dir = mkdtempSync(join(tmpdir(), 'journal-full-'));
    dirs.push(dir);
    const path = join(dir, 'journal.log');

    // Act
    const out = execFileSync(
      'bash',
      ['-c', `ulimit -f 8; exec "${process.execPath}" --import tsx "${FILL}" "${path}"`],
      {
        encoding: 'utf8',
      },
    );

    // Assess: every refused append (its request answered 503) is absent, so a restart cannot replay it
    const statuses = JSON.parse(out) as string[];
    expect(statuses).toHaveLength(40);
    expect(statuses).toContain('rejected');
    const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
    const kept = lines.map((line) => Number(line.slice(0, 3)));
    expect(kept).toEqual(statuses.flatMap((status, index) => (status === 'fulfilled' ? [index] : [])));
  });
});
