/**
 * The spool on local segment files (format in record-format.ts, guarantees in docs/spool.md).
 *
 * Appends queue up while a write is in flight; the next write takes everything queued (up to
 * `maxWriteBytes`) as one buffer, one positioned write and one fdatasync, then resolves every call in
 * it (group commit). Positions are assigned when a write is built, so a failed write leaves no gap.
 * Readers only ever see bytes that were fsynced.
 */
import * as fs from 'node:fs';
import { mkdir, open, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IllegalStateError, OperationalError, RateLimitedError, UserError } from '../../core/errors.js';
import type { ReceivedEvent } from '../event-record.js';
import { decodeSpooledEvent, encodeSpooledEvent } from './event-codec.js';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_FILE_PATTERN,
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  recordAt,
  resynchronise,
  scanSegment,
  sealRecord,
  segmentFileName,
} from './record-format.js';
import type { AppendReceipt, Spool, SpoolStats, SpooledEvent, SpooledText } from './spool.js';

const MiB = 1024 * 1024;
const LOCK_FILE = 'spool.lock';
/** `full` clears once the backlog is back under this share of the limit (hysteresis). */
const RESUME_RATIO = 0.75;
const READ_WINDOW_BYTES = MiB;
/**
 * The last writes kept in memory, up to this many bytes: the pipeline reads a record moments after it
 * was written, and reading it from these buffers saves a read from the file per batch.
 */
const RECENT_WRITES_BYTES = 16 * MiB;
const MAX_MARKS = 4096;

/** The file operations on the hot path, replaceable in tests (counting, injecting failures). */
export interface SpoolFileIo {
  /** Positioned write; returns the bytes written (may be fewer than asked). */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
}

const writeAsync = promisify(fs.write);
const readAsync = promisify(fs.read);
const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);

const systemIo: SpoolFileIo = {
  async write(fd, buffer, offset, length, position) {
    const { bytesWritten } = await writeAsync(fd, buffer, offset, length, position);
    return bytesWritten;
  },
  fdatasync: promisify(fs.fdatasync),
  ftruncate: promisify(fs.ftruncate),
};

export interface FileSpoolOptions {
  /** Created when missing. One process at a time (a `spool.lock` file holds the owner's pid). */
  readonly directory: string;
  /** A new segment starts when a write would take the current one past this. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Appends are refused (`spool_full`) beyond this many unreleased bytes. Default 256 MiB. */
  readonly backlogLimitBytes?: number;
  /** Largest accepted event, as UTF-8 JSON. Default 4 MiB. */
  readonly maxRecordBytes?: number;
  /** Most bytes one group-commit write carries (a single larger call still goes alone). Default 8 MiB. */
  readonly maxWriteBytes?: number;
  /** The delay `spool_full` rejections suggest. Default 1 s. */
  readonly retryAfterSeconds?: number;
  /** Test hook: replaces some file operations. */
  readonly io?: Partial<SpoolFileIo>;
}

/** What opening found in the last segment. */
export interface SpoolRecovery {
  readonly segment: string;
  /** Bytes cut from its end: a write that was never acknowledged (torn, or damaged). */
  readonly truncatedBytes: number;
  /** Damaged stretches skipped inside it (acknowledged records around them are kept). */
  readonly corruptRegions: number;
  readonly badHeader: boolean;
  /** The last position found (0 when the spool is empty). */
  readonly lastPosition: number;
}

interface Segment {
  readonly base: number;
  readonly path: string;
  /** Durable bytes (the write in flight is not counted until it is fsynced). */
  size: number;
  /** Bytes of every older segment still present, so backlog arithmetic spans segments. */
  readonly startByte: number;
}

interface PendingCall {
  readonly bodies: string[];
  readonly lengths: number[];
  readonly bytes: number;
  readonly resolve: (receipt: AppendReceipt) => void;
  readonly reject: (error: unknown) => void;
  firstPosition: number;
}

interface Waiter {
  readonly after: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Cursor {
  readonly segment: Segment;
  /** File offset of the next record to look at. */
  readonly offset: number;
  /** Position of the last record before `offset` (or the segment's base - 1). */
  readonly position: number;
}

interface Window {
  readonly segment: Segment;
  /** File offset of buffer[0]. */
  readonly start: number;
  readonly buffer: Buffer;
  readonly length: number;
}

interface Settings {
  readonly directory: string;
  readonly segmentBytes: number;
  readonly backlogLimitBytes: number;
  readonly maxRecordBytes: number;
  readonly maxWriteBytes: number;
  readonly retryAfterSeconds: number;
}

/** Opens (creating or recovering) the spool in `options.directory`. */
export async function openFileSpool(options: FileSpoolOptions): Promise<FileSpool> {
  const settings = validate(options);
  const io: SpoolFileIo = { ...systemIo, ...options.io };
  await mkdir(settings.directory, { recursive: true });
  const lockPath = await acquireLock(settings.directory);
  try {
    return await FileSpool.open(settings, io, lockPath);
  } catch (error) {
    await unlink(lockPath).catch(() => undefined);
    throw error;
  }
}

function validate(options: FileSpoolOptions): Settings {
  const problems: string[] = [];
  const size = (name: keyof FileSpoolOptions, fallback: number, min: number, max: number) => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`);
    }
    return value as number;
  };
  if (typeof options.directory !== 'string' || options.directory === '') {
    problems.push('directory is required');
  }
  const settings: Settings = {
    directory: options.directory,
    segmentBytes: size('segmentBytes', 64 * MiB, 4096, 2 ** 40),
    backlogLimitBytes: size('backlogLimitBytes', 256 * MiB, 1, Number.MAX_SAFE_INTEGER),
    maxRecordBytes: size('maxRecordBytes', 4 * MiB, 1, 2 ** 30),
    maxWriteBytes: size('maxWriteBytes', 8 * MiB, 1, 2 ** 30),
    retryAfterSeconds: size('retryAfterSeconds', 1, 1, 3600),
  };
  if (problems.length) {
    throw new UserError('invalid_spool_options', `invalid spool options: ${problems.join('; ')}`, {
      problems,
    });
  }
  return settings;
}

async function acquireLock(directory: string): Promise<string> {
  const path = join(directory, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new IllegalStateError('spool_locked', `spool ${directory} is in use by process ${holder}`, {
        directory,
        pid: holder,
      });
    }
    // The holder died without cleaning up (kill -9, power loss): take the lock over.
    await unlink(path).catch(() => undefined);
  }
  throw new IllegalStateError('spool_locked', `could not lock spool ${directory}`, { directory });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export class FileSpool implements Spool {
  private readonly segments: Segment[];
  private writeFd: number;
  private nextPosition: number;
  /** Set by a release beyond the last position: the next write starts a segment here. */
  private minNextPosition = 0;
  private releasedPosition: number;
  private releasedByte: number;
  private marks: Array<{ position: number; byte: number }> = [];

  private pending: PendingCall[] = [];
  private pendingBytes = 0;
  private inflightBytes = 0;
  private flushing: Promise<void> | null = null;
  private broken: OperationalError | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private isFull = false;
  private readonly fullListeners = new Set<(full: boolean) => void>();
  private readonly waiters = new Set<Waiter>();

  private reading = false;
  private cursor: Cursor | null = null;
  private window: Window | null = null;
  /** The last writes, oldest first (see RECENT_WRITES_BYTES). */
  private recentWrites: Window[] = [];
  private recentWritesBytes = 0;
  private readHandle: { segment: Segment; fd: number } | null = null;
  private releaseChain: Promise<void> = Promise.resolve();

  private readonly counters = {
    appendCalls: 0,
    appendedRecords: 0,
    appendedBytes: 0,
    writes: 0,
    fsyncs: 0,
    readsFromMemory: 0,
    rejectedCalls: 0,
    failedCalls: 0,
    corruptRecords: 0,
    recoveredTailBytes: 0,
  };

  private constructor(
    private readonly settings: Settings,
    private readonly io: SpoolFileIo,
    private readonly lockPath: string,
    segments: Segment[],
    writeFd: number,
    nextPosition: number,
    /** What opening found; see SpoolRecovery. */
    readonly recovery: SpoolRecovery,
  ) {
    this.segments = segments;
    this.writeFd = writeFd;
    this.nextPosition = nextPosition;
    this.releasedPosition = (segments[0] as Segment).base - 1;
    this.releasedByte = 0;
    this.counters.recoveredTailBytes = recovery.truncatedBytes;
    this.counters.corruptRecords = recovery.corruptRegions + (recovery.badHeader ? 1 : 0);
    this.updateFull();
  }

  /** @internal Use openFileSpool. */
  static async open(settings: Settings, io: SpoolFileIo, lockPath: string): Promise<FileSpool> {
    const { directory } = settings;
    const bases = (await readdir(directory))
      .map((name) => SEGMENT_FILE_PATTERN.exec(name)?.[1])
      .filter((digits): digits is string => digits !== undefined)
      .sort()
      .map(Number);
    const segments: Segment[] = [];
    let startByte = 0;
    for (const base of bases.slice(0, -1)) {
      const path = join(directory, segmentFileName(base));
      const { size } = await stat(path);
      segments.push({ base, path, size, startByte });
      startByte += size;
    }
    const lastBase = bases.at(-1) ?? 1;
    const path = join(directory, segmentFileName(lastBase));
    let fd: number;
    let recovery: SpoolRecovery;
    let syncs = 0;
    if (bases.length === 0) {
      fd = await openAsync(path, 'wx+');
      await writeAll(io, fd, encodeSegmentHeader(lastBase), 0);
      await io.fdatasync(fd);
      await syncDirectory(io, directory);
      syncs += 2;
      recovery = { segment: path, truncatedBytes: 0, corruptRegions: 0, badHeader: false, lastPosition: 0 };
    } else {
      fd = await openAsync(path, 'r+');
      try {
        const bytes = await readFile(path);
        if (bytes.length < SEGMENT_HEADER_BYTES) {
          // Created but its header never became durable: it cannot hold an acknowledged record.
          await io.ftruncate(fd, 0);
          await writeAll(io, fd, encodeSegmentHeader(lastBase), 0);
          await io.fdatasync(fd);
          syncs++;
          recovery = {
            segment: path,
            truncatedBytes: bytes.length,
            corruptRegions: 0,
            badHeader: false,
            lastPosition: lastBase - 1,
          };
        } else {
          const scan = scanSegment(bytes, lastBase, settings.maxRecordBytes);
          if (scan.committedEnd < bytes.length) {
            await io.ftruncate(fd, scan.committedEnd);
            await io.fdatasync(fd);
            syncs++;
          }
          recovery = {
            segment: path,
            truncatedBytes: bytes.length - scan.committedEnd,
            corruptRegions: scan.corruptRegions,
            badHeader: scan.badHeader,
            lastPosition: scan.committedPosition,
          };
        }
      } catch (error) {
        await closeAsync(fd).catch(() => undefined);
        throw error;
      }
    }
    const size = Math.max(SEGMENT_HEADER_BYTES, bases.length === 0 ? 0 : (await stat(path)).size);
    segments.push({ base: lastBase, path, size, startByte });
    const spool = new FileSpool(settings, io, lockPath, segments, fd, recovery.lastPosition + 1, recovery);
    spool.counters.fsyncs += syncs;
    return spool;
  }

  get full(): boolean {
    return this.isFull;
  }

  onFullChange(listener: (full: boolean) => void): () => void {
    this.fullListeners.add(listener);
    return () => this.fullListeners.delete(listener);
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private get appendedEnd(): number {
    return this.active.startByte + this.active.size;
  }

  private backlogBytes(): number {
    return this.appendedEnd - this.releasedByte + this.pendingBytes + this.inflightBytes;
  }

  stats(): SpoolStats {
    const lastPosition = this.nextPosition - 1;
    return {
      backlogBytes: this.backlogBytes(),
      backlogRecords: Math.max(0, lastPosition - this.releasedPosition),
      backlogLimitBytes: this.settings.backlogLimitBytes,
      full: this.isFull,
      segments: this.segments.length,
      lastPosition,
      releasedPosition: this.releasedPosition,
      ...this.counters,
    };
  }

  async append(events: readonly ReceivedEvent[]): Promise<AppendReceipt> {
    if (this.closed) throw closedError();
    if (this.broken) throw this.broken;
    if (events.length === 0) {
      return { firstPosition: this.nextPosition, lastPosition: this.nextPosition - 1 };
    }
    const bodies: string[] = new Array<string>(events.length);
    const lengths: number[] = new Array<number>(events.length);
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      let body: string | undefined;
      try {
        body = encodeSpooledEvent(events[i]!);
      } catch (error) {
        throw new UserError(
          'spool_record_unserialisable',
          'an event cannot be stored as JSON',
          {
            index: i,
          },
          { cause: error },
        );
      }
      if (typeof body !== 'string') {
        throw new UserError('spool_record_unserialisable', 'an event cannot be stored as JSON', {
          index: i,
        });
      }
      const length = Buffer.byteLength(body, 'utf8');
      if (length > this.settings.maxRecordBytes) {
        throw new UserError('spool_record_too_large', 'an event is larger than the spool accepts', {
          index: i,
          bytes: length,
          max_bytes: this.settings.maxRecordBytes,
        });
      }
      bodies[i] = body;
      lengths[i] = length;
      bytes += RECORD_HEADER_BYTES + length;
    }
    const load = this.backlogBytes();
    if (this.isFull || (load > 0 && load + bytes > this.settings.backlogLimitBytes)) {
      this.counters.rejectedCalls++;
      this.setFull(true);
      throw new RateLimitedError(
        'spool_full',
        'the event backlog is full; retry later',
        this.settings.retryAfterSeconds,
      );
    }
    this.counters.appendCalls++;
    return new Promise<AppendReceipt>((resolve, reject) => {
      this.pending.push({ bodies, lengths, bytes, resolve, reject, firstPosition: 0 });
      this.pendingBytes += bytes;
      this.updateFull();
      if (this.flushing === null) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        let take = 0;
        let bytes = 0;
        while (take < this.pending.length) {
          const call = this.pending[take] as PendingCall;
          if (take > 0 && bytes + call.bytes > this.settings.maxWriteBytes) break;
          bytes += call.bytes;
          take++;
        }
        const batch = this.pending.splice(0, take);
        this.pendingBytes -= bytes;
        this.inflightBytes += bytes;
        try {
          if (this.broken) throw this.broken;
          await this.writeBatch(batch, bytes);
          this.inflightBytes -= bytes;
          for (const call of batch) {
            call.resolve({
              firstPosition: call.firstPosition,
              lastPosition: call.firstPosition + call.lengths.length - 1,
            });
          }
        } catch (error) {
          this.inflightBytes -= bytes;
          this.counters.failedCalls += batch.length;
          const failure =
            error instanceof OperationalError
              ? error
              : new OperationalError(
                  'spool_write_failed',
                  'the spool could not store the events',
                  { directory: this.settings.directory },
                  { cause: error },
                );
          for (const call of batch) call.reject(failure);
        }
        this.wakeWaiters();
        this.updateFull();
      }
    } finally {
      this.flushing = null;
    }
  }

  private async writeBatch(batch: PendingCall[], bytes: number): Promise<void> {
    if (this.minNextPosition > this.nextPosition) {
      await this.startSegment(this.minNextPosition);
      this.nextPosition = this.minNextPosition;
    } else if (
      this.active.size > SEGMENT_HEADER_BYTES &&
      this.active.size + bytes > this.settings.segmentBytes
    ) {
      await this.startSegment(this.nextPosition);
    }
    const buffer = Buffer.allocUnsafe(bytes);
    let offset = 0;
    let position = this.nextPosition;
    for (let c = 0; c < batch.length; c++) {
      const call = batch[c] as PendingCall;
      call.firstPosition = position;
      const last = call.bodies.length - 1;
      for (let i = 0; i <= last; i++) {
        const length = call.lengths[i] as number;
        buffer.write(call.bodies[i] as string, offset + RECORD_HEADER_BYTES, length, 'utf8');
        sealRecord(buffer, offset, length, position, c === batch.length - 1 && i === last);
        offset += RECORD_HEADER_BYTES + length;
        position++;
      }
    }
    const segment = this.active;
    const at = segment.size;
    try {
      await writeAll(this.io, this.writeFd, buffer, at);
      await this.sync(this.writeFd);
    } catch (error) {
      await this.rollback(at, error);
      throw error;
    }
    segment.size = at + bytes;
    this.rememberWrite({ segment, start: at, buffer, length: bytes });
    this.nextPosition = position;
    this.counters.writes++;
    this.counters.appendedRecords += position - (batch[0] as PendingCall).firstPosition;
    this.counters.appendedBytes += bytes;
  }

  /** Cuts a failed write off again, so nothing of it can surface after a restart either. */
  private async rollback(size: number, cause: unknown): Promise<void> {
    try {
      await this.io.ftruncate(this.writeFd, size);
      await this.sync(this.writeFd);
    } catch (error) {
      this.broken = new OperationalError(
        'spool_failed',
        'the spool could not undo a failed write and stopped accepting events; restart to recover',
        { directory: this.settings.directory, write_error: String(cause) },
        { cause: error },
      );
    }
  }

  /** Starts a segment whose first position is `base`; its header and name are durable first. */
  private async startSegment(base: number): Promise<void> {
    const path = join(this.settings.directory, segmentFileName(base));
    const fd = await openAsync(path, 'wx+');
    try {
      await writeAll(this.io, fd, encodeSegmentHeader(base), 0);
      await this.sync(fd);
      await syncDirectory(this.io, this.settings.directory);
      this.counters.fsyncs++;
    } catch (error) {
      await closeAsync(fd).catch(() => undefined);
      await unlink(path).catch((unlinkError: unknown) => {
        if (!isNotFound(unlinkError)) {
          this.broken = new OperationalError(
            'spool_failed',
            'the spool could not remove a half-made segment; restart to recover',
            { path },
            { cause: unlinkError },
          );
        }
      });
      throw error;
    }
    const previous = this.active;
    await closeAsync(this.writeFd).catch(() => undefined);
    this.writeFd = fd;
    this.segments.push({
      base,
      path,
      size: SEGMENT_HEADER_BYTES,
      startByte: previous.startByte + previous.size,
    });
  }

  private async sync(fd: number): Promise<void> {
    this.counters.fsyncs++;
    await this.io.fdatasync(fd);
  }

  async waitForData(after: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw closedError();
    if (this.nextPosition - 1 > after) return;
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        after,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wakeWaiters(): void {
    const last = this.nextPosition - 1;
    for (const waiter of this.waiters) {
      if (last > waiter.after) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async read(after: number, maxEvents: number): Promise<SpooledEvent[]> {
    const records = await this.readChecked(after, maxEvents, false);
    return records as SpooledEvent[];
  }

  async readTexts(after: number, maxEvents: number): Promise<SpooledText[]> {
    return (await this.readChecked(after, maxEvents, true)) as SpooledText[];
  }

  private async readChecked(
    after: number,
    maxEvents: number,
    texts: boolean,
  ): Promise<Array<SpooledEvent | SpooledText>> {
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new UserError('invalid_spool_position', 'after must be a non-negative integer', { after });
    }
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
      throw new UserError('invalid_spool_batch', 'maxEvents must be a positive integer', {
        max_events: maxEvents,
      });
    }
    if (this.closed) throw closedError();
    if (this.reading) {
      throw new IllegalStateError('spool_read_in_progress', 'the spool has one reader at a time');
    }
    this.reading = true;
    try {
      return await this.readFrom(after, maxEvents, texts);
    } finally {
      this.reading = false;
    }
  }

  private async readFrom(
    after: number,
    maxEvents: number,
    texts: boolean,
  ): Promise<Array<SpooledEvent | SpooledText>> {
    const out: Array<SpooledEvent | SpooledText> = [];
    const cached = this.cursor;
    const start =
      cached && cached.position === after && this.segments.includes(cached.segment)
        ? cached
        : this.locate(after);
    let { segment, offset, position: previous } = start;
    let needed = RECORD_HEADER_BYTES;
    const maxBody = this.settings.maxRecordBytes;
    while (out.length < maxEvents) {
      const index = this.segments.indexOf(segment);
      if (index < 0) break; // released while we read
      const next = this.segments[index + 1];
      const end = segment.size;
      if (offset >= end) {
        if (!next) break;
        segment = next;
        offset = SEGMENT_HEADER_BYTES;
        previous = Math.max(previous, next.base - 1);
        needed = RECORD_HEADER_BYTES;
        continue;
      }
      const atMost = next ? next.base - 1 : this.nextPosition - 1;
      const window = await this.windowAt(segment, offset, end, needed);
      const limit = window.length;
      let p = offset - window.start;
      needed = RECORD_HEADER_BYTES;
      let damaged = false;
      while (p < limit && out.length < maxEvents) {
        const record = recordAt(window.buffer, p, limit, previous, atMost, maxBody);
        if (record.kind === 'ok') {
          if (record.position > after && previous <= after && previous > start.position) {
            this.noteMark(previous, segment.startByte + window.start + p);
          }
          if (record.position > after) {
            try {
              const text = window.buffer.toString('utf8', record.bodyStart, record.end);
              // Texts are decoded by the consumer (in the pipeline's worker thread).
              out.push(
                texts
                  ? { position: record.position, text }
                  : { position: record.position, event: decodeSpooledEvent(text) },
              );
            } catch {
              this.counters.corruptRecords++; // checksum matched but not JSON: skip, never crash
            }
          }
          previous = record.position;
          p = record.end;
          continue;
        }
        if (record.kind === 'incomplete' && window.start + limit < end) {
          needed = record.needed;
          break;
        }
        damaged = true;
        break;
      }
      offset = window.start + p;
      if (damaged) {
        offset = await this.skipDamage(segment, offset, end, previous, atMost);
        needed = RECORD_HEADER_BYTES;
      }
    }
    this.cursor = { segment, offset, position: previous };
    if (previous > after) this.noteMark(previous, segment.startByte + offset);
    return out;
  }

  /**
   * Remembers that every record up to `position` lies before global byte `byte`, so a release can
   * count the bytes it frees. Applied at once when that position is already released (the first
   * read after a restart, which starts behind the checkpoint the consumer released).
   */
  private noteMark(position: number, byte: number): void {
    if (position <= this.releasedPosition) {
      this.releasedByte = Math.max(this.releasedByte, byte);
      this.updateFull();
      return;
    }
    this.marks.push({ position, byte });
    if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
  }

  /** Where reading after `after` starts: the segment that holds `after + 1` (or the oldest). */
  private locate(after: number): Cursor {
    let segment = this.segments[0] as Segment;
    for (const candidate of this.segments) {
      if (candidate.base <= after + 1) segment = candidate;
      else break;
    }
    return { segment, offset: SEGMENT_HEADER_BYTES, position: segment.base - 1 };
  }

  /** Keeps a successful write's bytes for the reader (exactly what the file holds there). */
  private rememberWrite(write: Window): void {
    // A single write over the bound (a huge batch) is not kept: it is read back from the file.
    if (write.length > RECENT_WRITES_BYTES) return;
    this.recentWrites.push(write);
    this.recentWritesBytes += write.length;
    while (this.recentWritesBytes > RECENT_WRITES_BYTES && this.recentWrites.length > 1) {
      this.recentWritesBytes -= this.recentWrites.shift()!.length;
    }
  }

  private forgetWrites(segment: Segment): void {
    const kept = this.recentWrites.filter((w) => w.segment !== segment);
    if (kept.length === this.recentWrites.length) return;
    this.recentWrites = kept;
    this.recentWritesBytes = kept.reduce((sum, w) => sum + w.length, 0);
  }

  /**
   * The bytes at `offset`: the cached read or a recent write if one covers `needed` of them, else a
   * fresh read.
   */
  private async windowAt(segment: Segment, offset: number, end: number, needed: number) {
    const covers = (w: Window | null): w is Window =>
      w !== null && w.segment === segment && offset >= w.start && offset + needed <= w.start + w.length;
    if (covers(this.window)) return this.window;
    for (let i = this.recentWrites.length - 1; i >= 0; i--) {
      const write = this.recentWrites[i]!;
      if (covers(write)) {
        this.counters.readsFromMemory++;
        return write;
      }
    }
    const length = Math.min(end - offset, Math.max(READ_WINDOW_BYTES, needed));
    const buffer = await this.readBytes(segment, offset, length);
    const window: Window = { segment, start: offset, buffer, length: buffer.length };
    this.window = window;
    return window;
  }

  private async readBytes(segment: Segment, offset: number, length: number): Promise<Buffer> {
    if (this.readHandle?.segment !== segment) {
      await this.closeReadHandle();
      this.readHandle = { segment, fd: await openAsync(segment.path, 'r') };
    }
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await readAsync(
        this.readHandle.fd,
        buffer,
        filled,
        length - filled,
        offset + filled,
      );
      if (bytesRead === 0) break; // shorter than we believed: treated as damage by the caller
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  }

  /** Skips a damaged stretch: the offset of the next believable record in the segment, or its end. */
  private async skipDamage(
    segment: Segment,
    offset: number,
    end: number,
    previous: number,
    atMost: number,
  ): Promise<number> {
    this.counters.corruptRecords++;
    const rest = await this.readBytes(segment, offset, end - offset);
    this.window = null;
    const found = resynchronise(rest, 1, rest.length, previous, atMost, this.settings.maxRecordBytes);
    return found < 0 ? end : offset + found;
  }

  private async closeReadHandle(): Promise<void> {
    const handle = this.readHandle;
    this.readHandle = null;
    if (handle) await closeAsync(handle.fd).catch(() => undefined);
  }

  release(upTo: number): Promise<void> {
    if (!Number.isSafeInteger(upTo) || upTo < 0) {
      return Promise.reject(
        new UserError('invalid_spool_position', 'upTo must be a non-negative integer', {
          up_to: upTo,
        }),
      );
    }
    const run = this.releaseChain.then(() => this.releaseNow(upTo));
    this.releaseChain = run.catch(() => undefined);
    return run;
  }

  private async releaseNow(upTo: number): Promise<void> {
    if (this.closed) throw closedError();
    this.releasedPosition = Math.max(this.releasedPosition, upTo);
    const last = this.nextPosition - 1;
    if (upTo > last) this.minNextPosition = Math.max(this.minNextPosition, upTo + 1);
    let byte = this.releasedByte;
    if (upTo >= last) {
      byte = this.appendedEnd;
      this.marks = [];
    } else {
      // Marks are mostly ascending, but a consumer that reads a stretch again adds lower ones.
      const later = [];
      for (const mark of this.marks) {
        if (mark.position <= upTo) byte = Math.max(byte, mark.byte);
        else later.push(mark);
      }
      this.marks = later;
    }
    while (this.segments.length > 1 && (this.segments[1] as Segment).base <= upTo + 1) {
      const gone = this.segments.shift() as Segment;
      byte = Math.max(byte, gone.startByte + gone.size);
      // A read in progress may still hold its descriptor; the reader closes it when it moves on.
      if (this.window?.segment === gone) this.window = null;
      this.forgetWrites(gone);
      if (this.cursor?.segment === gone) this.cursor = null;
      await unlink(gone.path).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
    this.releasedByte = Math.max(this.releasedByte, byte);
    this.updateFull();
  }

  private updateFull(): void {
    const load = this.backlogBytes();
    const limit = this.settings.backlogLimitBytes;
    if (!this.isFull && load >= limit) this.setFull(true);
    else if (this.isFull && load <= limit * RESUME_RATIO) this.setFull(false);
  }

  private setFull(full: boolean): void {
    if (this.isFull === full) return;
    this.isFull = full;
    for (const listener of this.fullListeners) {
      try {
        listener(full);
      } catch {
        // A listener's failure must not fail an append or a release.
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.releaseChain;
    for (const waiter of this.waiters) waiter.reject(closedError());
    this.waiters.clear();
    await this.closeReadHandle();
    await closeAsync(this.writeFd).catch(() => undefined);
    await unlink(this.lockPath).catch(() => undefined);
  }
}

function closedError(): IllegalStateError {
  return new IllegalStateError('spool_closed', 'the spool is closed');
}

async function writeAll(io: SpoolFileIo, fd: number, buffer: Buffer, position: number) {
  let written = 0;
  while (written < buffer.length) {
    const n = await io.write(fd, buffer, written, buffer.length - written, position + written);
    if (n <= 0) throw new Error('write made no progress');
    written += n;
  }
}

async function syncDirectory(io: SpoolFileIo, directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await io.fdatasync(handle.fd);
  } finally {
    await handle.close();
  }
}
