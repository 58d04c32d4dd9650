/**
 * Streams an EVTX file from disk chunk by chunk: memory stays at one read batch (1 MiB by default)
 * whatever the file size. A gzip-compressed file (told by its first bytes, as file ingestion tells it)
 * is read through gunzip: the chunks are read in file order either way. The decoding itself is the pure
 * EvtxDecoder.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { OperationalError, UserError } from '../../core/errors.js';
import { gunzipFile, hasGzipMagic, isZlibError, type GunzippedFile } from '../gzip.js';
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

  /**
   * Bytes read from the file so far in the latest iteration (compressed bytes for a gzip file), for
   * progress reporting against the file's size.
   */
  get bytesRead(): number {
    return this.gunzip === null ? this.read : this.gunzip.file.compressedBytes();
  }

  /** The decompressed stream of a gzip file being read, and what remains of its current piece. */
  private gunzip: { file: GunzippedFile; pieces: AsyncIterator<Buffer>; piece: Buffer } | null = null;

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
      await this.openGunzipIfCompressed(handle);
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
      this.gunzip?.file.destroy();
      await handle.close();
    }
  }

  /** Starts reading through gunzip when the file begins with gzip's magic bytes. */
  private async openGunzipIfCompressed(handle: FileHandle): Promise<void> {
    this.gunzip = null;
    const magic = new Uint8Array(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    if (!hasGzipMagic(magic.subarray(0, bytesRead))) return;
    // a stream of its own (destroying a stream closes its descriptor, which `handle` must keep)
    const file = gunzipFile(this.path);
    this.gunzip = { file, pieces: file.stream[Symbol.asyncIterator](), piece: Buffer.alloc(0) };
  }

  /**
   * Fills `into` from `offset` with the next decompressed bytes; returns how many, 0 at the end. The
   * reads of a file go in file order, so the stream always stands where the next read starts.
   */
  private async readDecompressed(into: Uint8Array, offset: number): Promise<number> {
    const g = this.gunzip!;
    while (g.piece.length === 0) {
      let next: IteratorResult<Buffer>;
      try {
        next = await g.pieces.next();
      } catch (error) {
        // zlib's errors ("incorrect data check") say the data is bad; others are the file's reading
        if (!isZlibError(error)) throw error;
        throw new UserError(
          'evtx_bad_gzip',
          `${this.path}: not a readable gzip file (${(error as Error).message})`,
          { path: this.path },
          { cause: error },
        );
      }
      if (next.done === true) return 0;
      g.piece = next.value;
    }
    const n = Math.min(into.length - offset, g.piece.length);
    into.set(g.piece.subarray(0, n), offset);
    g.piece = g.piece.subarray(n);
    return n;
  }

  /** Fills `into` from `position` until it is full or the file ends; returns the filled part. */
  private async readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<Uint8Array> {
    let filled = 0;
    while (filled < into.length) {
      let bytesRead: number;
      try {
        bytesRead =
          this.gunzip !== null
            ? await this.readDecompressed(into, filled)
            : (await handle.read(into, filled, into.length - filled, position + filled)).bytesRead;
      } catch (error) {
        if (error instanceof UserError) throw error;
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
