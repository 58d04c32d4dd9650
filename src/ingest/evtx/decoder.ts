/**
 * EVTX container decoding: the 4 KiB file header, 64 KiB chunks (header, CRC32 checks, record walk)
 * and event records. Pure: works on bytes handed in; file reading lives in evtx-file.ts.
 *
 * Damage never escapes: a chunk whose header is unusable is skipped, a record that does not decode is
 * skipped, and each is counted and described in {@link EvtxStats}. Iteration always terminates: the
 * record walk only moves forward, and BinXml decoding is bounded by depth, node and loop checks.
 */
import { ByteReader, EvtxFormatError, formatFiletime } from './binary.js';
import { ChunkBinXml } from './binxml.js';
import { crc32 } from './crc32.js';
import type { JsonObject } from './model.js';
import { renderRecordJson, type RenderLimits } from './render-json.js';

export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;
const RECORD_HEADER_SIZE = 24;
const RECORD_MAGIC = 0x00002a2a;
const FILE_MAGIC = [0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]; // "ElfFile\0"
const CHUNK_MAGIC = [0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00]; // "ElfChnk\0"

/** One event record, rendered. */
export interface EvtxRecord {
  /** The record identifier from the record header (EventRecordID). */
  readonly recordId: number;
  /**
   * When the record was written (record header FILETIME), ISO 8601 UTC with microseconds; null when the
   * header leaves it unset (0, as some export tools do) or unrepresentable. The event's own time is
   * `event.Event.System.TimeCreated["#attributes"].SystemTime`.
   */
  readonly timestamp: string | null;
  /** `{ Event: { "#attributes"?, System, EventData | UserData, ... } }` as evtx dump tools print it. */
  readonly event: JsonObject;
  /** Index of the chunk slot the record came from (0 = first chunk after the file header). */
  readonly chunkIndex: number;
}

export type EvtxProblemCode =
  | 'file_truncated'
  | 'file_bad_magic'
  | 'file_header_crc'
  | 'chunk_truncated'
  | 'chunk_bad_magic'
  | 'chunk_header_crc'
  | 'chunk_data_crc'
  | 'chunk_bad_free_space'
  | 'record_bad_header'
  | 'record_undecodable'
  | 'internal_error';

/** Something in the input that was damaged or not understood, and what was given up because of it. */
export interface EvtxProblem {
  readonly code: EvtxProblemCode;
  readonly message: string;
  /** Byte offset in the file (or input) where the damage starts. */
  readonly offset: number;
  readonly chunkIndex?: number;
  readonly recordId?: number;
  /** The decoder's detail code for record problems (e.g. `bad_template`, `too_deep`, `out_of_bounds`). */
  readonly detail?: string;
}

export interface EvtxStats {
  /** Chunk slots looked at (64 KiB blocks after the file header, including a trailing partial one). */
  chunks: number;
  chunksParsed: number;
  /** Chunks given up: bad magic, bad header or (strict) data checksum, truncation. */
  chunksSkipped: number;
  /** Never-used chunk slots (all zero): not damage. chunksParsed + chunksSkipped + chunksEmpty = chunks. */
  chunksEmpty: number;
  records: number;
  /** Records that could not be decoded, plus one per stretch of unreadable bytes skipped while resynchronising. */
  recordsSkipped: number;
  /** The first `maxProblems` problems. */
  problems: EvtxProblem[];
  problemsDropped: number;
}

export interface EvtxFileHeader {
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly chunkCount: number;
  readonly nextRecordId: number;
  /** Flag 0x1: the log was not closed cleanly; the header may lag behind the chunks. */
  readonly dirty: boolean;
  /** Flag 0x2: the log is full. */
  readonly full: boolean;
}

export interface EvtxOptions {
  /**
   * `strict` (default) skips a chunk whose header or record-data CRC32 does not match; `lenient`
   * reports the mismatch and decodes what it can (records are still checked one by one).
   */
  readonly checksums?: 'strict' | 'lenient';
  /** Problems kept in `stats.problems` (default 1000); the rest are only counted. */
  readonly maxProblems?: number;
  /** Nesting limit for elements, templates and embedded BinXml (default 64). */
  readonly maxDepth?: number;
  /** Rendering budget per record (default 100000 nodes). */
  readonly maxNodesPerRecord?: number;
  /**
   * Rendering budget shared by the records of one chunk (default 500000 nodes, over 10 times what the
   * densest real chunks need). Bounds the time a hostile chunk can cost, whatever its templates do.
   */
  readonly maxNodesPerChunk?: number;
  /** Called for every problem as it is found (including those beyond `maxProblems`). */
  readonly onProblem?: (problem: EvtxProblem) => void;
}

export function emptyStats(): EvtxStats {
  return {
    chunks: 0,
    chunksParsed: 0,
    chunksSkipped: 0,
    chunksEmpty: 0,
    records: 0,
    recordsSkipped: 0,
    problems: [],
    problemsDropped: 0,
  };
}

/** Decodes the parts of one EVTX file in order, accumulating stats. Never throws from its methods. */
export class EvtxDecoder {
  readonly stats: EvtxStats = emptyStats();
  private readonly strict: boolean;
  private readonly maxProblems: number;
  private readonly maxDepth: number;
  private readonly maxNodes: number;
  private readonly maxNodesPerChunk: number;

  constructor(private readonly options: EvtxOptions = {}) {
    this.strict = options.checksums !== 'lenient';
    this.maxProblems = options.maxProblems ?? 1000;
    this.maxDepth = options.maxDepth ?? 64;
    this.maxNodes = options.maxNodesPerRecord ?? 100_000;
    this.maxNodesPerChunk = options.maxNodesPerChunk ?? 500_000;
  }

  report(problem: EvtxProblem): void {
    if (this.stats.problems.length < this.maxProblems) this.stats.problems.push(problem);
    else this.stats.problemsDropped++;
    this.options.onProblem?.(problem);
  }

  /**
   * Reads the file header from the first bytes of the file (up to 4096). Returns null, and reports,
   * when it is missing or not an EVTX header; the caller may still walk the chunks (carving).
   */
  decodeFileHeader(bytes: Uint8Array): EvtxFileHeader | null {
    if (bytes.length < 128) {
      this.report({
        code: 'file_truncated',
        message: `file is ${bytes.length} bytes, shorter than the EVTX header`,
        offset: 0,
      });
      return null;
    }
    if (!hasMagic(bytes, 0, FILE_MAGIC)) {
      this.report({ code: 'file_bad_magic', message: 'file does not start with "ElfFile"', offset: 0 });
      return null;
    }
    const r = new ByteReader(bytes);
    const stored = r.u32(124);
    const actual = crc32(bytes, 0, 120);
    if (stored !== actual) {
      this.report({
        code: 'file_header_crc',
        message: `file header CRC32 ${hex(actual)} != stored ${hex(stored)}`,
        offset: 0,
      });
    }
    const flags = r.u32(120);
    return {
      majorVersion: r.u16(38),
      minorVersion: r.u16(36),
      chunkCount: r.u16(42),
      nextRecordId: r.u64n(24),
      dirty: (flags & 1) !== 0,
      full: (flags & 2) !== 0,
    };
  }

  /** Decodes the records of one chunk slot. `fileOffset` is where the slot starts, for problem reports. */
  *decodeChunk(
    bytes: Uint8Array,
    chunkIndex: number,
    fileOffset: number,
  ): Generator<EvtxRecord, void, undefined> {
    this.stats.chunks++;
    let plan: ChunkPlan | null;
    try {
      plan = this.planChunk(bytes, chunkIndex, fileOffset);
    } catch (error) {
      this.stats.chunksSkipped++;
      this.report(internal(error, fileOffset, chunkIndex));
      plan = null;
    }
    if (plan === null) return;
    this.stats.chunksParsed++;
    const { reader, end } = plan;
    const binxml = new ChunkBinXml(reader, { maxDepth: this.maxDepth });
    const limits: RenderLimits = {
      maxDepth: this.maxDepth,
      maxNodes: this.maxNodes,
      chunkBudget: { remaining: this.maxNodesPerChunk },
    };
    let pos = CHUNK_HEADER_SIZE;
    while (pos + RECORD_HEADER_SIZE <= end) {
      let record: EvtxRecord | null = null;
      try {
        const size = recordSizeAt(bytes, reader, pos, end);
        if (size === 0) {
          const next = findRecord(bytes, reader, pos + 1, end);
          this.stats.recordsSkipped++;
          this.report({
            code: 'record_bad_header',
            message: `no valid record header at chunk offset ${pos}; skipped ${next - pos} bytes`,
            offset: fileOffset + pos,
            chunkIndex,
          });
          pos = next;
          continue;
        }
        const at = pos;
        pos += size;
        record = this.decodeRecord(binxml, reader, at, size, chunkIndex, fileOffset, limits);
      } catch (error) {
        // Only a decoder bug gets here (record walk reads are bounds-checked beforehand); stop this chunk.
        this.report(internal(error, fileOffset + pos, chunkIndex));
        return;
      }
      if (record !== null) {
        this.stats.records++;
        yield record;
      }
    }
  }

  private decodeRecord(
    binxml: ChunkBinXml,
    reader: ByteReader,
    pos: number,
    size: number,
    chunkIndex: number,
    fileOffset: number,
    limits: RenderLimits,
  ): EvtxRecord | null {
    const recordId = reader.u64n(pos + 8);
    try {
      const nodes = binxml.parseFragment(pos + RECORD_HEADER_SIZE, pos + size - 4);
      const event = renderRecordJson(nodes, limits);
      const low = reader.u32(pos + 16);
      const high = reader.u32(pos + 20);
      return {
        recordId,
        timestamp: low === 0 && high === 0 ? null : formatFiletime(low, high),
        event,
        chunkIndex,
      };
    } catch (error) {
      this.stats.recordsSkipped++;
      const known = error instanceof EvtxFormatError;
      this.report({
        code: known ? 'record_undecodable' : 'internal_error',
        message: `record ${recordId}: ${error instanceof Error ? error.message : String(error)}`,
        offset: fileOffset + pos,
        chunkIndex,
        recordId,
        detail: known ? error.code : 'exception',
      });
      return null;
    }
  }

  /** Validates a chunk's header and checksums; null (after reporting) when the chunk must be skipped. */
  private planChunk(bytes: Uint8Array, chunkIndex: number, fileOffset: number): ChunkPlan | null {
    const at = { offset: fileOffset, chunkIndex };
    if (isAllZero(bytes)) {
      this.stats.chunksEmpty++;
      return null;
    }
    if (!hasMagic(bytes, 0, CHUNK_MAGIC)) {
      this.stats.chunksSkipped++;
      this.report({
        code: 'chunk_bad_magic',
        message: `chunk ${chunkIndex} does not start with "ElfChnk"`,
        ...at,
      });
      return null;
    }
    if (bytes.length < CHUNK_HEADER_SIZE) {
      this.stats.chunksSkipped++;
      this.report({
        code: 'chunk_truncated',
        message: `chunk ${chunkIndex} has only ${bytes.length} bytes`,
        ...at,
      });
      return null;
    }
    const reader = new ByteReader(bytes);
    const storedHeaderCrc = reader.u32(124);
    const headerCrc = crc32(bytes, 128, CHUNK_HEADER_SIZE, crc32(bytes, 0, 120));
    if (storedHeaderCrc !== headerCrc) {
      this.report({
        code: 'chunk_header_crc',
        message: `chunk ${chunkIndex} header CRC32 ${hex(headerCrc)} != stored ${hex(storedHeaderCrc)}`,
        ...at,
      });
      if (this.strict) {
        this.stats.chunksSkipped++;
        return null;
      }
    }
    let end = reader.u32(48); // free space offset: records end here
    if (end < CHUNK_HEADER_SIZE || end > CHUNK_SIZE) {
      this.report({
        code: 'chunk_bad_free_space',
        message: `chunk ${chunkIndex} free space offset ${end} is outside the chunk`,
        ...at,
      });
      if (this.strict) {
        this.stats.chunksSkipped++;
        return null;
      }
      end = bytes.length;
    }
    if (end > bytes.length) {
      this.report({
        code: 'chunk_truncated',
        message: `chunk ${chunkIndex} is cut at ${bytes.length} bytes but its records reach ${end}`,
        ...at,
      });
      if (this.strict) {
        this.stats.chunksSkipped++;
        return null;
      }
      end = bytes.length;
    } else {
      const storedDataCrc = reader.u32(52);
      const dataCrc = crc32(bytes, CHUNK_HEADER_SIZE, end);
      if (storedDataCrc !== dataCrc) {
        this.report({
          code: 'chunk_data_crc',
          message: `chunk ${chunkIndex} record data CRC32 ${hex(dataCrc)} != stored ${hex(storedDataCrc)}`,
          ...at,
        });
        if (this.strict) {
          this.stats.chunksSkipped++;
          return null;
        }
      }
    }
    return { reader: new ByteReader(bytes, Math.min(bytes.length, CHUNK_SIZE)), end };
  }
}

interface ChunkPlan {
  readonly reader: ByteReader;
  /** End of the record area (exclusive), chunk-relative. */
  readonly end: number;
}

/** The size of a well-formed record starting at `pos` (magic, sane size, matching trailing copy), else 0. */
function recordSizeAt(bytes: Uint8Array, r: ByteReader, pos: number, end: number): number {
  if (pos + RECORD_HEADER_SIZE > end) return 0;
  if (r.u32(pos) !== RECORD_MAGIC) return 0;
  const size = r.u32(pos + 4);
  if (size < RECORD_HEADER_SIZE + 4 || size > end - pos) return 0;
  if (r.u32(pos + size - 4) !== size) return 0;
  return bytes.length >= pos + size ? size : 0;
}

/** The next position in (from, end) where a well-formed record starts, or `end`. Always > from - 1. */
function findRecord(bytes: Uint8Array, r: ByteReader, from: number, end: number): number {
  let p = from;
  while (p + RECORD_HEADER_SIZE <= end) {
    const hit = bytes.indexOf(0x2a, p);
    if (hit < 0 || hit + RECORD_HEADER_SIZE > end) return end;
    if (recordSizeAt(bytes, r, hit, end) > 0) return hit;
    p = hit + 1;
  }
  return end;
}

/**
 * Decodes a whole EVTX file held in memory. Pure; the result is iterable (each iteration starts over
 * with fresh stats) and never throws while iterating: damage is skipped and reported in `stats`.
 */
export function parseEvtx(bytes: Uint8Array, options: EvtxOptions = {}): EvtxParse {
  return new EvtxParse(bytes, options);
}

export class EvtxParse implements Iterable<EvtxRecord> {
  private decoder: EvtxDecoder;
  private fileHeader: EvtxFileHeader | null = null;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: EvtxOptions,
  ) {
    this.decoder = new EvtxDecoder(options);
  }

  /** Counters and problems of the latest iteration (live while it runs). */
  get stats(): EvtxStats {
    return this.decoder.stats;
  }

  /** The file header, once iteration has started; null when missing or invalid. */
  get header(): EvtxFileHeader | null {
    return this.fileHeader;
  }

  *[Symbol.iterator](): Generator<EvtxRecord, void, undefined> {
    const decoder = new EvtxDecoder(this.options);
    this.decoder = decoder;
    const bytes = this.bytes;
    this.fileHeader = decoder.decodeFileHeader(bytes.subarray(0, FILE_HEADER_SIZE));
    if (bytes.length < FILE_HEADER_SIZE) {
      if (bytes.length >= 128) {
        decoder.report({
          code: 'file_truncated',
          message: `file is ${bytes.length} bytes, shorter than its 4096-byte header block`,
          offset: 0,
        });
      }
      return;
    }
    let index = 0;
    for (let offset = FILE_HEADER_SIZE; offset < bytes.length; offset += CHUNK_SIZE) {
      yield* decoder.decodeChunk(
        bytes.subarray(offset, Math.min(offset + CHUNK_SIZE, bytes.length)),
        index++,
        offset,
      );
    }
  }
}

function hasMagic(bytes: Uint8Array, offset: number, magic: readonly number[]): boolean {
  if (bytes.length < offset + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[offset + i] !== magic[i]) return false;
  return true;
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function internal(error: unknown, offset: number, chunkIndex: number): EvtxProblem {
  return {
    code: 'internal_error',
    message: `chunk ${chunkIndex}: ${error instanceof Error ? error.message : String(error)}`,
    offset,
    chunkIndex,
  };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
