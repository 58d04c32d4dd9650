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
const SHORT = 256;
/** One scratch array per length, so String.fromCharCode.apply gets an exact-length argument list. */
const SCRATCH: number[][] = Array.from({ length: SHORT + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Pure; decodes `count` UTF-16LE code units. Short strings (most names and values) are gathered into a
 * scratch array and built in one String.fromCharCode call, about twice as fast as a TextDecoder call;
 * text with surrogates goes through TextDecoder so unpaired ones become U+FFFD on both paths.
 */
export function decodeUtf16(bytes: Uint8Array, offset: number, count: number): string {
  if (count > SHORT) return UTF16.decode(bytes.subarray(offset, offset + count * 2));
  const units = SCRATCH[count] as number[];
  let surrogates = false;
  for (let i = 0; i < count; i++) {
    const p = offset + i * 2;
    const c = (bytes[p] as number) | ((bytes[p + 1] as number) << 8);
    if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
    units[i] = c;
  }
  if (surrogates) return UTF16.decode(bytes.subarray(offset, offset + count * 2));
  return String.fromCharCode.apply(null, units);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase());

/** Pure; upper-case hex of bytes[start, end). */
export function hexUpper(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[bytes[i] as number] as string;
  return s;
}

const EPOCH_DIFF_MS = 11_644_473_600_000;

/**
 * Pure; renders a FILETIME (100 ns ticks since 1601-01-01 UTC, given as its two 32-bit halves) as
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the microsecond form evtx dump tools print (sub-microsecond ticks are
 * dropped). Returns null for times a Date cannot hold. Exact without BigInt: 2^32 = 429496 * 10^4 + 7296.
 */
export function formatFiletime(low: number, high: number): string | null {
  const t = high * 7296 + low;
  const ms = high * 429_496 + Math.floor(t / 10_000);
  const extraMicros = Math.floor((t % 10_000) / 10);
  return formatMicros(ms - EPOCH_DIFF_MS, extraMicros);
}

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
/** Day number -> "YYYY-MM-DD"; logs touch few distinct days, and the cache is dropped when it grows. */
const DATES = new Map<number, string>();

/** Pure; `ms` since the Unix epoch plus 0..999 extra microseconds, as ISO 8601 with 6 fraction digits. */
export function formatMicros(ms: number, extraMicros: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  const second = Math.floor(ms / 1000);
  const day = Math.floor(second / 86_400);
  let date = DATES.get(day);
  if (date === undefined) {
    const iso = new Date(day * 86_400_000).toISOString();
    date = iso.slice(0, iso.indexOf('T'));
    if (DATES.size >= 4096) DATES.clear();
    DATES.set(day, date);
  }
  const inDay = second - day * 86_400;
  const hour = Math.floor(inDay / 3600);
  const minute = Math.floor((inDay - hour * 3600) / 60);
  const sec = inDay - hour * 3600 - minute * 60;
  const micros = (ms - second * 1000) * 1000 + extraMicros;
  const fraction = micros >= 100_000 ? String(micros) : String(micros).padStart(6, '0');
  return `${date}T${PAD2[hour] as string}:${PAD2[minute] as string}:${PAD2[sec] as string}.${fraction}Z`;
}
