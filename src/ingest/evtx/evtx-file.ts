/**
 * Streams an EVTX file from disk chunk by chunk: memory stays at one read batch (1 MiB by default)
 * whatever the file size. The decoding itself is the pure EvtxDecoder.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { OperationalError, UserError } from '../../core/errors.js';
import {
  CHUNK_SIZE,
  EvtxDecoder,
  FILE_HEADER_SIZE,
  type EvtxFileHeader,
  type EvtxOptions,
  type EvtxRecord,
  type EvtxStats,
} from './decoder.js';

/** Chunk slots read together: `bytes` holds whole 64 KiB slots but the last, which may be short. */
export interface EvtxChunkBatch {
  readonly bytes: Uint8Array;
  /** Index of the first slot in the file (0 = the slot after the file header). */
  readonly firstChunk: number;
  /** File offset of `bytes`. */
  readonly position: number;
}

/** The records of a batch of chunk slots, slot by slot (each decodes on its own). */
export function* decodeChunkBatch(
  decoder: EvtxDecoder,
  batch: EvtxChunkBatch,
): Generator<EvtxRecord, void, undefined> {
  const { bytes, firstChunk, position } = batch;
  for (let start = 0; start < bytes.length; start += CHUNK_SIZE) {
    yield* decoder.decodeChunk(
      bytes.subarray(start, Math.min(start + CHUNK_SIZE, bytes.length)),
      firstChunk + start / CHUNK_SIZE,
      position + start,
    );
  }
}

export interface EvtxFileOptions extends EvtxOptions {
  /** Chunks read per system call (default 16, i.e. 1 MiB). */
  readonly chunksPerRead?: number;
}

/**
 * Opens `path` lazily and yields its records as an async iterable. Damaged chunks and records are
 * skipped and reported in `stats`; only I/O failures reject: UserError `evtx_file_unreadable` when the
 * file cannot be opened, UserError `evtx_not_a_file` for a directory, pipe or device, and
 * OperationalError `evtx_read_failed` when reading fails midway.
 */
export function readEvtxFile(path: string, options: EvtxFileOptions = {}): EvtxFileRead {
  return new EvtxFileRead(path, options);
}

export class EvtxFileRead implements AsyncIterable<EvtxRecord> {
  private decoder: EvtxDecoder;
  private fileHeader: EvtxFileHeader | null = null;
  private read = 0;

  constructor(
    readonly path: string,
    private readonly options: EvtxFileOptions,
  ) {
    this.decoder = new EvtxDecoder(options);
  }

  /** Counters and problems of the latest iteration (live while it runs). */
  get stats(): EvtxStats {
    return this.decoder.stats;
  }

  get header(): EvtxFileHeader | null {
    return this.fileHeader;
  }

  /** Bytes read from the file so far in the latest iteration, for progress reporting. */
  get bytesRead(): number {
    return this.read;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EvtxRecord, void, undefined> {
    // The decoder finishes each chunk (records are independent copies) before the buffer is reused.
    for await (const batch of this.batches()) yield* decodeChunkBatch(this.decoder, batch);
  }

  /**
   * The file's chunk slots, read `chunksPerRead` at a time, undecoded: each chunk decodes on its own
   * (`EvtxDecoder.decodeChunk`), so a hunt can decode them on worker threads. The file header is
   * decoded here (into `stats`). By default every batch is read into the same buffer, overwritten by the
   * next; `allocate` gives a buffer per batch instead (at least the size asked).
   */
  async *batches(allocate?: (size: number) => Uint8Array): AsyncGenerator<EvtxChunkBatch, void, undefined> {
    const decoder = new EvtxDecoder(this.options);
    this.decoder = decoder;
    this.read = 0;
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      throw new UserError(
        'evtx_file_unreadable',
        `cannot open ${this.path}`,
        { path: this.path },
        { cause: error },
      );
    }
    try {
      if (!(await handle.stat()).isFile()) {
        throw new UserError(
          'evtx_not_a_file',
          `${this.path} is not a regular file (for pipes use decodeEvtxStream)`,
          {
            path: this.path,
          },
        );
      }
      const chunksPerRead = Math.max(1, Math.floor(this.options.chunksPerRead ?? 16));
      const headerBytes = await this.readFully(handle, new Uint8Array(FILE_HEADER_SIZE), 0);
      this.fileHeader = decoder.decodeFileHeader(headerBytes);
      if (headerBytes.length < FILE_HEADER_SIZE) {
        if (headerBytes.length >= 128) {
          decoder.report({
            code: 'file_truncated',
            message: `file is ${headerBytes.length} bytes, shorter than its 4096-byte header block`,
            offset: 0,
          });
        }
        return;
      }
      const size = CHUNK_SIZE * chunksPerRead;
      const shared = allocate === undefined ? new Uint8Array(size) : null;
      let position = FILE_HEADER_SIZE;
      let firstChunk = 0;
      for (;;) {
        const buffer = shared ?? allocate!(size).subarray(0, size);
        const bytes = await this.readFully(handle, buffer, position);
        // Read the length now: the consumer may transfer the buffer to another thread (detaching it).
        const length = bytes.length;
        if (length === 0) return;
        yield { bytes, firstChunk, position };
        firstChunk += Math.ceil(length / CHUNK_SIZE);
        position += length;
        if (length < size) return;
      }
    } finally {
      await handle.close();
    }
  }

  /** Fills `into` from `position` until it is full or the file ends; returns the filled part. */
  private async readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<Uint8Array> {
    let filled = 0;
    while (filled < into.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(into, filled, into.length - filled, position + filled));
      } catch (error) {
        throw new OperationalError(
          'evtx_read_failed',
          `reading ${this.path} failed at ${position + filled}`,
          { path: this.path },
          { cause: error },
        );
      }
      if (bytesRead === 0) break;
      filled += bytesRead;
      this.read += bytesRead;
    }
    return into.subarray(0, filled);
  }
}
