import { deflateSync, type Zippable, zipSync } from 'fflate';

/** One file to put in an archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  content: string | Uint8Array;
  /** Unix permission bits; Lambda needs its files world-readable. Default 0o644. */
  mode?: number;
}

/** 1980-01-01 00:00 local time, the earliest date a ZIP can hold: fixed so the same files always give the same bytes (and the same CodeSha256). */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);
/** "Made by" Unix, so readers honour the permission bits in the external attributes. */
const OS_UNIX = 3;
const REGULAR_FILE = 0o100000;
const DEFLATE_LEVEL = 6;

/**
 * Builds a ZIP archive in memory with fflate (deflated, or stored when deflating does not help).
 * Deterministic: a fixed timestamp and the entries in the order given, so an unchanged package
 * hashes the same and redeploys can be skipped. fflate rather than a hand-written writer: it is
 * small, dependency-free, widely used, and handles the format's corners (UTF-8 names, zip64 limits).
 *
 * @example
 * const zip = createZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
 */
export function createZip(entries: ZipEntry[]): Buffer {
  if (entries.length === 0) throw new RangeError('a zip needs at least one entry');
  if (entries.length > 0xffff) throw new RangeError('too many entries for a zip without zip64');
  // Built without a prototype, so an entry named like an Object member is an entry, not a lookup.
  const files: Zippable = Object.create(null);
  for (const entry of entries) {
    if (!entry.name || entry.name.startsWith('/') || entry.name.split('/').includes('..')) {
      throw new RangeError(`invalid zip entry name: ${JSON.stringify(entry.name)}`);
    }
    if (Object.hasOwn(files, entry.name)) throw new RangeError(`duplicate zip entry: ${entry.name}`);
    const raw = typeof entry.content === 'string' ? new TextEncoder().encode(entry.content) : entry.content;
    files[entry.name] = [
      raw,
      {
        mtime: FIXED_MTIME,
        os: OS_UNIX,
        attrs: ((REGULAR_FILE | (entry.mode ?? 0o644)) << 16) >>> 0,
        // Stored when deflating would not make it smaller (already compressed, or tiny).
        level: deflateSync(raw, { level: DEFLATE_LEVEL }).length < raw.length ? DEFLATE_LEVEL : 0,
      },
    ];
  }
  return Buffer.from(zipSync(files));
}
