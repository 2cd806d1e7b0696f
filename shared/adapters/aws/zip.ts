import { crc32, deflateRawSync } from 'node:zlib';

/** One file to put in an archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading slash. */
  name: string;
  content: string | Uint8Array;
  /** Unix permission bits; Lambda needs its files world-readable. Default 0o644. */
  mode?: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION = 20;
/** "Made by" Unix, so readers honour the permission bits in the external attributes. */
const MADE_BY_UNIX = (3 << 8) | VERSION;
const FLAG_UTF8_NAMES = 0x0800;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
/** 1980-01-01 00:00, the earliest DOS date: fixed so the same files always give the same bytes (and the same CodeSha256). */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const REGULAR_FILE = 0o100000;
const MAX_32 = 0xffffffff;

/**
 * Builds a ZIP archive in memory (deflated, or stored when deflating does not help). Deterministic:
 * no timestamps, so an unchanged package hashes the same and redeploys can be skipped.
 *
 * @example
 * const zip = createZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
 */
export function createZip(entries: ZipEntry[]): Buffer {
  if (entries.length === 0) throw new RangeError('a zip needs at least one entry');
  if (entries.length > 0xffff) throw new RangeError('too many entries for a zip without zip64');
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  const seen = new Set<string>();

  for (const entry of entries) {
    if (!entry.name || entry.name.startsWith('/') || entry.name.split('/').includes('..')) {
      throw new RangeError(`invalid zip entry name: ${JSON.stringify(entry.name)}`);
    }
    if (seen.has(entry.name)) throw new RangeError(`duplicate zip entry: ${entry.name}`);
    seen.add(entry.name);

    const raw = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : Buffer.from(entry.content);
    const deflated = deflateRawSync(raw);
    const useDeflate = deflated.length < raw.length;
    const data = useDeflate ? deflated : raw;
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(raw) >>> 0;
    if (raw.length > MAX_32 || offset > MAX_32) throw new RangeError('archive too large without zip64');
    const method = useDeflate ? METHOD_DEFLATE : METHOD_STORE;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(FLAG_UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(VERSION, 6);
    central.writeUInt16LE(FLAG_UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra field length, comment length, disk number start, internal attributes: all 0
    central.writeUInt32LE(((REGULAR_FILE | (entry.mode ?? 0o644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }

  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}
