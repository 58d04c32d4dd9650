import { describe, expect, it } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  isSegmentHeader,
  recordAt,
  resynchronise,
  scanSegment,
  sealRecord,
  segmentFileName,
} from './record-format.js';

const MAX = 1 << 20;

/** A segment with base `base` holding `bodies`, commit marks after the records listed. */
function segment(base: number, bodies: string[], commitsAfter: number[]): Buffer {
  const parts: Buffer[] = [encodeSegmentHeader(base)];
  bodies.forEach((body, i) => {
    const length = Buffer.byteLength(body);
    const record = Buffer.alloc(RECORD_HEADER_BYTES + length);
    record.write(body, RECORD_HEADER_BYTES);
    sealRecord(record, 0, length, base + i, commitsAfter.includes(i));
    parts.push(record);
  });
  return Buffer.concat(parts);
}

describe('spool record format', () => {
  it('names segments by base and round-trips the header', () => {
    expect(segmentFileName(42)).toBe('00000000000000000042.seg');
    const header = encodeSegmentHeader(2 ** 40 + 7);
    expect(isSegmentHeader(header, 2 ** 40 + 7)).toBe(true);
    expect(isSegmentHeader(header, 2 ** 40 + 8)).toBe(false);
  });

  it('reads a sealed record back with its position and commit mark, also above 2^32', () => {
    const position = 2 ** 33 + 5;
    const bytes = segment(position, ['{"a":1}'], [0]);
    const record = recordAt(bytes, SEGMENT_HEADER_BYTES, bytes.length, position - 1, position, MAX);
    expect(record).toEqual({
      kind: 'ok',
      position,
      bodyStart: SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES,
      end: bytes.length,
      commit: true,
    });
  });

  it('refuses a flipped bit, a position out of bounds, an oversized length and a cut record', () => {
    const bytes = segment(1, ['{"hello":"world"}'], [0]);
    const at = SEGMENT_HEADER_BYTES;
    expect(recordAt(bytes, at, bytes.length, 0, 10, MAX).kind).toBe('ok');
    expect(recordAt(bytes, at, bytes.length, 1, 10, MAX).kind).toBe('invalid'); // not above `after`
    expect(recordAt(bytes, at, bytes.length, 0, 0, MAX).kind).toBe('invalid'); // above `atMost`
    expect(recordAt(bytes, at, bytes.length, 0, 10, 4).kind).toBe('invalid'); // body too large
    expect(recordAt(bytes, at, bytes.length - 1, 0, 10, MAX)).toEqual({
      kind: 'incomplete',
      needed: bytes.length - at,
    });
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 3] = (flipped[bytes.length - 3] as number) ^ 0x01;
    expect(recordAt(flipped, at, flipped.length, 0, 10, MAX).kind).toBe('invalid');
  });

  it('resynchronises on the record after a damaged one', () => {
    const bytes = segment(1, ['{"n":1}', '{"n":2}', '{"n":3}'], [2]);
    const second = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 7;
    bytes[SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES] = 0x5b; // damage record 1's body
    expect(recordAt(bytes, SEGMENT_HEADER_BYTES, bytes.length, 0, 10, MAX).kind).toBe('invalid');
    expect(resynchronise(bytes, SEGMENT_HEADER_BYTES + 1, bytes.length, 0, 10, MAX)).toBe(second);
    expect(resynchronise(bytes, bytes.length - 20, bytes.length, 0, 10, MAX)).toBe(-1);
  });

  it('scans up to the last commit mark and counts damage before it', () => {
    const bytes = segment(10, ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'], [1, 2]);
    const recordBytes = RECORD_HEADER_BYTES + 7;
    const clean = scanSegment(bytes, 10, MAX);
    expect(clean).toEqual({
      committedEnd: SEGMENT_HEADER_BYTES + 3 * recordBytes, // record 4 has no commit mark: torn
      committedPosition: 12,
      committedRecords: 3,
      corruptRegions: 0,
      badHeader: false,
    });
    bytes[SEGMENT_HEADER_BYTES + 2] = (bytes[SEGMENT_HEADER_BYTES + 2] as number) ^ 0xff; // record 1 checksum
    expect(scanSegment(bytes, 10, MAX)).toMatchObject({
      committedEnd: SEGMENT_HEADER_BYTES + 3 * recordBytes,
      committedPosition: 12,
      corruptRegions: 1,
    });
    expect(scanSegment(encodeSegmentHeader(5), 5, MAX)).toMatchObject({
      committedEnd: SEGMENT_HEADER_BYTES,
      committedPosition: 4,
    });
  });
});
