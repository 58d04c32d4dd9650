/**
 * The spool's on-disk layout (see docs/spool.md). Little-endian throughout.
 *
 * Segment file `<base position, 20 digits>.seg`:
 *   0..8   magic `FBSPOOL1`
 *   8..16  base position (u32 low, u32 high): the position of the first record the segment may hold
 *   16..   records, back to back
 *
 * Record:
 *   0..4   CRC-32 (IEEE) of bytes 4 .. 16 + length
 *   4..8   body length in bytes
 *   8..12  position, low 32 bits
 *   12..16 position, high 21 bits; bit 31 set on the last record of a write (a commit mark)
 *   16..   body: the event as UTF-8 JSON
 *
 * The position inside each record lets a reader resynchronise after a damaged record without
 * renumbering what follows; the commit mark lets recovery cut a torn write whole, so a call that was
 * never acknowledged leaves nothing behind.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('FBSPOOL1', 'latin1');
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 16;
export const SEGMENT_FILE_PATTERN = /^(\d{20})\.seg$/;

const TWO_32 = 2 ** 32;
const COMMIT_FLAG = 0x8000_0000;
const HIGH_MASK = 0x7fff_ffff;

/** The file name of the segment whose first position is `base`. */
export function segmentFileName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`;
}

/** A new segment's 16-byte header. */
export function encodeSegmentHeader(base: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(base % TWO_32, 8);
  header.writeUInt32LE(Math.floor(base / TWO_32), 12);
  return header;
}

/** True when `bytes` start with a segment header naming `base`. */
export function isSegmentHeader(bytes: Uint8Array, base: number): boolean {
  if (bytes.length < SEGMENT_HEADER_BYTES) return false;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  return (
    view.subarray(0, 8).equals(SEGMENT_MAGIC) &&
    view.readUInt32LE(8) + view.readUInt32LE(12) * TWO_32 === base
  );
}

/**
 * Fills in the header of a record whose body (`bodyLength` bytes) is already at `offset + 16`, and
 * its checksum. `commit` marks the last record of a write.
 */
export function sealRecord(
  buffer: Buffer,
  offset: number,
  bodyLength: number,
  position: number,
  commit: boolean,
): void {
  buffer.writeUInt32LE(bodyLength, offset + 4);
  buffer.writeUInt32LE(position % TWO_32, offset + 8);
  buffer.writeUInt32LE((Math.floor(position / TWO_32) | (commit ? COMMIT_FLAG : 0)) >>> 0, offset + 12);
  const checksum = crc32(buffer.subarray(offset + 4, offset + RECORD_HEADER_BYTES + bodyLength));
  buffer.writeUInt32LE(checksum, offset);
}

export type RecordAt =
  | {
      readonly kind: 'ok';
      readonly position: number;
      readonly bodyStart: number;
      readonly end: number;
      readonly commit: boolean;
    }
  /** The bytes end before the record does; `needed` is its full size when the length looked sane. */
  | { readonly kind: 'incomplete'; readonly needed: number }
  | { readonly kind: 'invalid' };

const INVALID: RecordAt = { kind: 'invalid' };

/**
 * Reads the record at `offset` in `buffer[0 .. limit)`. It is believed only when its position lies in
 * `(after, atMost]`, its body is at most `maxBodyBytes` and its checksum matches. Pure; never throws.
 */
export function recordAt(
  buffer: Buffer,
  offset: number,
  limit: number,
  after: number,
  atMost: number,
  maxBodyBytes: number,
): RecordAt {
  if (limit - offset < RECORD_HEADER_BYTES) {
    return { kind: 'incomplete', needed: RECORD_HEADER_BYTES };
  }
  const length = buffer.readUInt32LE(offset + 4);
  if (length > maxBodyBytes) return INVALID;
  const highWord = buffer.readUInt32LE(offset + 12);
  const position = buffer.readUInt32LE(offset + 8) + (highWord & HIGH_MASK) * TWO_32;
  if (position <= after || position > atMost) return INVALID;
  const end = offset + RECORD_HEADER_BYTES + length;
  if (end > limit) return { kind: 'incomplete', needed: RECORD_HEADER_BYTES + length };
  if (crc32(buffer.subarray(offset + 4, end)) !== buffer.readUInt32LE(offset)) return INVALID;
  return {
    kind: 'ok',
    position,
    bodyStart: offset + RECORD_HEADER_BYTES,
    end,
    commit: (highWord & COMMIT_FLAG) !== 0,
  };
}

/**
 * After a damaged record at `from - 1`, finds the next offset in `buffer[from .. limit)` where a whole
 * record with a believable position and a matching checksum starts; -1 when there is none.
 */
export function resynchronise(
  buffer: Buffer,
  from: number,
  limit: number,
  after: number,
  atMost: number,
  maxBodyBytes: number,
): number {
  for (let offset = from; offset + RECORD_HEADER_BYTES <= limit; offset++) {
    if (recordAt(buffer, offset, limit, after, atMost, maxBodyBytes).kind === 'ok') return offset;
  }
  return -1;
}

/** What a whole-segment scan found. */
export interface SegmentScan {
  /** Offset just past the last record carrying a commit mark (the durable end of the segment). */
  readonly committedEnd: number;
  /** Position of that record, or `base - 1` when the segment holds none. */
  readonly committedPosition: number;
  readonly committedRecords: number;
  /** Damaged stretches skipped before `committedEnd`. */
  readonly corruptRegions: number;
  /** Whether the header was damaged (the file name still gives the base). */
  readonly badHeader: boolean;
}

/** Scans a whole segment (recovery). Pure. */
export function scanSegment(bytes: Buffer, base: number, maxBodyBytes: number): SegmentScan {
  const badHeader = !isSegmentHeader(bytes, base);
  let offset = SEGMENT_HEADER_BYTES;
  let after = base - 1;
  let records = 0;
  let committedEnd = SEGMENT_HEADER_BYTES;
  let committedPosition = base - 1;
  let committedRecords = 0;
  let corruptRegions = 0;
  let corruptSinceCommit = 0;
  const limit = bytes.length;
  while (offset < limit) {
    const record = recordAt(bytes, offset, limit, after, Number.MAX_SAFE_INTEGER, maxBodyBytes);
    if (record.kind === 'ok') {
      records++;
      after = record.position;
      offset = record.end;
      if (record.commit) {
        committedEnd = offset;
        committedPosition = record.position;
        committedRecords = records;
        corruptRegions += corruptSinceCommit;
        corruptSinceCommit = 0;
      }
      continue;
    }
    const next = resynchronise(bytes, offset + 1, limit, after, Number.MAX_SAFE_INTEGER, maxBodyBytes);
    if (next < 0) break;
    corruptSinceCommit++;
    offset = next;
  }
  return { committedEnd, committedPosition, committedRecords, corruptRegions, badHeader };
}
