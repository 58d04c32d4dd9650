/**
 * Bounds-checked little-endian reads over one buffer. Every read that would leave the buffer throws
 * {@link EvtxFormatError}; the decoder catches it at the record or chunk boundary, so damaged input
 * costs one record or one chunk, never the iteration.
 */

/** Why a piece of an EVTX file could not be decoded. Internal to the decoder: never escapes an iterator. */
export class EvtxFormatError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EvtxFormatError';
  }
}

export function fail(code: string, message: string): never {
  throw new EvtxFormatError(code, message);
}

/** A view over bytes with checked reads. `limit` is the end of the readable region (exclusive). */
export class ByteReader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly limit: number = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(offset: number, size: number): void {
    if (offset < 0 || size < 0 || offset + size > this.limit) {
      fail('out_of_bounds', `read of ${size} bytes at ${offset} leaves the buffer (${this.limit})`);
    }
  }

  u8(offset: number): number {
    if (offset < 0 || offset >= this.limit) this.check(offset, 1);
    return this.bytes[offset] as number;
  }

  u16(offset: number): number {
    this.check(offset, 2);
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, true);
  }

  /** Unsigned 64-bit as a number; exact below 2^53 (record ids, counters). */
  u64n(offset: number): number {
    this.check(offset, 8);
    return this.view.getUint32(offset, true) + this.view.getUint32(offset + 4, true) * 0x1_0000_0000;
  }

  u64(offset: number): bigint {
    this.check(offset, 8);
    return this.view.getBigUint64(offset, true);
  }

  /** UTF-16LE text of `count` code units at `offset`. */
  utf16(offset: number, count: number): string {
    this.check(offset, count * 2);
    return decodeUtf16(this.bytes, offset, count);
  }
}

const UTF16 = new TextDecoder('utf-16le');

/**
 * Pure; decodes `count` UTF-16LE code units. Short strings (most names and values) are built by hand,
 * which is much cheaper than a TextDecoder call; unpaired surrogates go through TextDecoder so they
 * become U+FFFD the same way on both paths.
 */
export function decodeUtf16(bytes: Uint8Array, offset: number, count: number): string {
  if (count > 48) return UTF16.decode(bytes.subarray(offset, offset + count * 2));
  let s = '';
  for (let i = 0; i < count; i++) {
    const p = offset + i * 2;
    const c = (bytes[p] as number) | ((bytes[p + 1] as number) << 8);
    if (c >= 0xd800 && c <= 0xdfff) return UTF16.decode(bytes.subarray(offset, offset + count * 2));
    s += String.fromCharCode(c);
  }
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

/** Pure; upper-case hex of bytes[start, end). */
export function hexUpper(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[bytes[i] as number] as string;
  return s;
}

const EPOCH_DIFF_MICROS = 11_644_473_600_000_000n;

/**
 * Pure; renders a FILETIME (100 ns ticks since 1601-01-01 UTC) as `YYYY-MM-DDTHH:MM:SS.ffffffZ`,
 * the microsecond form evtx dump tools print. Returns null for times a Date cannot hold.
 */
export function formatFiletime(ticks: bigint): string | null {
  const micros = ticks / 10n - EPOCH_DIFF_MICROS;
  const ms = micros / 1000n;
  let frac = micros % 1000n;
  let msNum = Number(ms);
  if (frac < 0n) {
    frac += 1000n;
    msNum -= 1;
  }
  return formatMicros(msNum, Number(frac));
}

/** Pure; `ms` since the Unix epoch plus 0..999 extra microseconds, as ISO 8601 with 6 fraction digits. */
export function formatMicros(ms: number, extraMicros: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, -1)}${String(extraMicros).padStart(3, '0')}Z`;
}
