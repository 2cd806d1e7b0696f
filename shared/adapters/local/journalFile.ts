import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { crc32 } from 'node:zlib';
import { ServiceUnavailableError } from '../../errors.ts';

/**
 * The journal could not be written: nothing more is accepted, since a 202 would promise what is
 * not kept, until a write succeeds again (see `retryAfterMs`) or the next start.
 */
export class JournalWriteError extends ServiceUnavailableError {}

/**
 * The journal's file format: one record per line, `<crc32 of the JSON, 8 hex digits> <JSON>\n`.
 * Lines, not one document, so that a record is written and read on its own and nothing is ever
 * built as one giant string; the checksum finds a record torn by a crash in the middle of a write.
 */
export function encodeRecord(record: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const line = Buffer.allocUnsafe(json.length + 10);
  line.write(crc32(json).toString(16).padStart(8, '0'), 0, 'latin1');
  line[8] = 0x20;
  json.copy(line, 9);
  line[line.length - 1] = 0x0a;
  return line;
}

/** The record of one line, or `undefined` when the line is torn or damaged. */
export function decodeRecord(line: string): unknown {
  if (line.length < 10 || line[8] !== ' ') return undefined;
  const json = line.slice(9);
  if (crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/**
 * Reads a journal record by record (with the bytes of its line and where it starts in the file);
 * damaged lines are counted, not returned. `tornAt` is set when the only damage is the last line (what a crash in the middle of a
 * write leaves): the offset where that line starts, to cut the file there. `unterminated`: the last
 * line is whole but its newline is missing (a write cut just before it). A missing file is empty.
 */
export async function readRecords(
  path: string,
  onRecord: (record: unknown, bytes: number, at: number) => void,
): Promise<{ damaged: number; tornAt: number | undefined; bytes: number; unterminated: boolean }> {
  let damaged = 0;
  let offset = 0;
  let lastDamagedAt = -1;
  let lastLineAt = -1;
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<boolean>((resolve, reject) => {
    stream.once('open', () => resolve(true));
    stream.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
  });
  if (!(await opened)) return { damaged, tornAt: undefined, bytes: 0, unterminated: false };
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    const at = offset;
    const bytes = Buffer.byteLength(line, 'utf8') + 1;
    offset += bytes;
    if (line === '') continue;
    lastLineAt = at;
    const record = decodeRecord(line);
    if (record !== undefined) onRecord(record, bytes, at);
    else {
      damaged++;
      lastDamagedAt = at;
    }
  }
  const tornAt = damaged === 1 && lastDamagedAt === lastLineAt ? lastDamagedAt : undefined;
  // Each line was counted with its newline; one short means the last line has none.
  const { size } = await stat(path);
  return { damaged, tornAt, bytes: size, unterminated: size === offset - 1 };
}

async function writeFully(handle: FileHandle, buffers: Buffer[]): Promise<number> {
  const chunk = buffers.length === 1 ? (buffers[0] as Buffer) : Buffer.concat(buffers);
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
  return chunk.length;
}

/** Writes `lines` to a new file at `path` (a temporary file, synced, then renamed over it). */
export async function replaceFile(
  path: string,
  lines: Iterable<Buffer>,
  options: { batchBytes?: number } = {},
): Promise<number> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  // Owner-only: the journal holds every accepted event's data.
  const handle = await open(tmp, 'w', 0o600);
  let bytes = 0;
  try {
    const batchBytes = options.batchBytes ?? 1 << 20;
    let batch: Buffer[] = [];
    let batchSize = 0;
    for (const line of lines) {
      batch.push(line);
      batchSize += line.length;
      if (batchSize >= batchBytes) {
        bytes += await writeFully(handle, batch);
        batch = [];
        batchSize = 0;
      }
    }
    if (batch.length > 0) bytes += await writeFully(handle, batch);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
  return bytes;
}

/** Makes a rename in `dir` durable; some platforms cannot open a directory, which is harmless here. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the rename is already visible to this and every later process.
  }
}

interface Waiting {
  line: Buffer;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface JournalAppenderOptions {
  path: string;
  /** fdatasync after each group write: survives a power loss too, at about 0.3 ms per write. */
  fsync?: boolean;
  /**
   * Asked after each group write; when it answers with lines, they replace the whole file: they
   * must describe everything appended so far, including what still waits to be written (which is
   * then dropped, as the new file holds it). They may be produced lazily while the file is written.
   */
  compaction?: (fileBytes: number) => Iterable<Buffer> | undefined;
  /**
   * After a failed write (a full disk, say), appends are refused for this long; then the next one
   * tries the file again, and the appender is back once a write succeeds. Without it a failure is
   * final until the file is opened again (a restart).
   */
  retryAfterMs?: number;
}

/**
 * Appends records with group commits: the first append is written at once, and every append that
 * arrives while a write is in flight joins the next single write. `append` resolves once its line
 * has been handed to the operating system (and synced, with `fsync`).
 */
export class JournalAppender {
  private waiting: Waiting[] = [];
  private writing: Promise<void> | undefined;
  /**
   * Set while `drain` runs; cleared in the same step as its last look at `waiting`, so an append
   * never lands between that look and the flag (it would wait for a write that never comes).
   */
  private draining = false;
  private failure: JournalWriteError | undefined;
  /** When the last failure happened (`performance.now()`); `Infinity` when it is final. */
  private failedAt = 0;
  private closed = false;
  /** Bytes in the file: what was there at open plus what was appended. */
  bytes = 0;
  /** Group writes made, for tests and figures. */
  writes = 0;

  private constructor(
    private handle: FileHandle,
    private readonly options: JournalAppenderOptions,
  ) {}

  static async open(options: JournalAppenderOptions): Promise<JournalAppender> {
    await mkdir(dirname(options.path), { recursive: true, mode: 0o700 });
    const handle = await open(options.path, 'a', 0o600);
    const appender = new JournalAppender(handle, options);
    appender.bytes = (await handle.stat()).size;
    return appender;
  }

  /**
   * The error an append made now would be refused with at once (closed, or inside the wait after a
   * failed write), or `undefined` when it would be tried: lets a caller skip work that only counts
   * if its line is written.
   */
  refusal(): JournalWriteError | undefined {
    if (this.closed) return new JournalWriteError('the delivery journal is closed');
    if (!this.failure) return undefined;
    const retryAfterMs = this.options.retryAfterMs;
    if (retryAfterMs === undefined || performance.now() < this.failedAt + retryAfterMs) return this.failure;
    return undefined;
  }

  append(line: Buffer): Promise<void> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    // Long enough after a failure: this append tries the file again, and fails on its own if it is still full.
    this.failure = undefined;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ line, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        this.writing = this.drain();
      }
    });
  }

  /** Resolves once everything appended so far is written. */
  async flush(): Promise<void> {
    while (this.draining) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.handle.close();
  }

  /** Never throws; clears `draining` in the same step that finds nothing waiting. */
  private async drain(): Promise<void> {
    // Everything appended in this tick (all events of one request, say) goes in the first write.
    await Promise.resolve();
    for (;;) {
      if (this.waiting.length === 0) {
        this.draining = false;
        return;
      }
      const batch = this.waiting;
      this.waiting = [];
      const before = this.bytes;
      try {
        this.bytes += await writeFully(
          this.handle,
          batch.map((w) => w.line),
        );
        if (this.options.fsync) await this.handle.datasync();
        this.writes++;
        for (const w of batch) w.resolve();
      } catch (error) {
        // A journal that cannot be written accepts nothing more: answering 202 would be a lie. What
        // part of the batch did reach the file is cut off again, so that events whose requests
        // were refused are not replayed (and then delivered twice, once under a retry's new id).
        this.failure = new JournalWriteError('the delivery journal cannot be written', { cause: error });
        this.failedAt = performance.now();
        // A part of a line left in the file would join the next line: without the cut, no retry.
        await this.handle.truncate(before).catch(() => {
          this.failedAt = Number.POSITIVE_INFINITY;
        });
        for (const w of [...batch, ...this.waiting.splice(0)]) w.reject(this.failure);
        this.draining = false;
        return;
      }
      await this.maybeCompact();
    }
  }

  private async maybeCompact(): Promise<void> {
    const lines = this.options.compaction?.(this.bytes);
    if (!lines) return;
    // The new file already holds what is waiting, so those appends are done when it is in place.
    const subsumed = this.waiting;
    this.waiting = [];
    try {
      await this.handle.close();
      this.bytes = await replaceFile(this.options.path, lines);
      this.handle = await open(this.options.path, 'a', 0o600);
      for (const w of subsumed) w.resolve();
    } catch (error) {
      // Final: the file may be half replaced, and the handle is closed.
      this.failure = new JournalWriteError('the delivery journal could not be compacted', { cause: error });
      this.failedAt = Number.POSITIVE_INFINITY;
      for (const w of subsumed) w.reject(this.failure);
    }
  }
}
