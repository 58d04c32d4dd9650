/**
 * Substitution value types (the BinXml "value type" byte) and their JSON rendering, following what
 * evtx dump tools print: integers as numbers, hex types as `0x…` strings, GUIDs upper case without
 * braces, SIDs as `S-1-…`, FILETIME/SYSTEMTIME as ISO 8601 with microseconds, arrays as JSON arrays.
 */
import { decodeUtf16, fail, formatFiletime, formatMicros, hexUpper, type ByteReader } from './binary.js';
import type { EmbeddedXml, JsonValue, SubstitutionValue } from './model.js';

// Value types as module constants (V8 folds them into the switch below).
const T_NULL = 0x00;
const T_STRING = 0x01;
const T_ANSI_STRING = 0x02;
const T_INT8 = 0x03;
const T_UINT8 = 0x04;
const T_INT16 = 0x05;
const T_UINT16 = 0x06;
const T_INT32 = 0x07;
const T_UINT32 = 0x08;
const T_INT64 = 0x09;
const T_UINT64 = 0x0a;
const T_REAL32 = 0x0b;
const T_REAL64 = 0x0c;
const T_BOOL = 0x0d;
const T_BINARY = 0x0e;
const T_GUID = 0x0f;
const T_SIZE_T = 0x10;
const T_FILE_TIME = 0x11;
const T_SYS_TIME = 0x12;
const T_SID = 0x13;
const T_HEX_INT32 = 0x14;
const T_HEX_INT64 = 0x15;
const T_EVT_HANDLE = 0x20;
const T_BIN_XML = 0x21;
const T_EVT_XML = 0x23;
const T_ARRAY_FLAG = 0x80;

export const ValueType = {
  Null: T_NULL,
  String: T_STRING,
  AnsiString: T_ANSI_STRING,
  Int8: T_INT8,
  UInt8: T_UINT8,
  Int16: T_INT16,
  UInt16: T_UINT16,
  Int32: T_INT32,
  UInt32: T_UINT32,
  Int64: T_INT64,
  UInt64: T_UINT64,
  Real32: T_REAL32,
  Real64: T_REAL64,
  Bool: T_BOOL,
  Binary: T_BINARY,
  Guid: T_GUID,
  SizeT: T_SIZE_T,
  FileTime: T_FILE_TIME,
  SysTime: T_SYS_TIME,
  Sid: T_SID,
  HexInt32: T_HEX_INT32,
  HexInt64: T_HEX_INT64,
  EvtHandle: T_EVT_HANDLE,
  BinXml: T_BIN_XML,
  EvtXml: T_EVT_XML,
  ArrayFlag: T_ARRAY_FLAG,
} as const;

/** Decodes an embedded BinXml fragment; supplied by the BinXml parser so the modules do not import each other. */
export interface EmbeddedParser {
  parseEmbedded(offset: number, size: number, depth: number): EmbeddedXml;
}

/** Byte size of each fixed-size value type (0 for the others). */
const FIXED_SIZE = new Uint8Array(256);
FIXED_SIZE[T_INT8] = 1;
FIXED_SIZE[T_UINT8] = 1;
FIXED_SIZE[T_INT16] = 2;
FIXED_SIZE[T_UINT16] = 2;
FIXED_SIZE[T_INT32] = 4;
FIXED_SIZE[T_UINT32] = 4;
FIXED_SIZE[T_INT64] = 8;
FIXED_SIZE[T_UINT64] = 8;
FIXED_SIZE[T_REAL32] = 4;
FIXED_SIZE[T_REAL64] = 8;
FIXED_SIZE[T_BOOL] = 4;
FIXED_SIZE[T_GUID] = 16;
FIXED_SIZE[T_FILE_TIME] = 8;
FIXED_SIZE[T_SYS_TIME] = 16;
FIXED_SIZE[T_HEX_INT32] = 4;
FIXED_SIZE[T_HEX_INT64] = 8;

/**
 * Decodes one substitution value of `size` bytes at `offset`. Throws EvtxFormatError when the bytes do
 * not fit the type; the caller turns that into a damaged record.
 */
export function decodeValue(
  r: ByteReader,
  offset: number,
  size: number,
  type: number,
  parser: EmbeddedParser,
  depth: number,
): SubstitutionValue {
  r.check(offset, size);
  if (type & T_ARRAY_FLAG) return decodeArray(r, offset, size, type & 0x7f);
  switch (type) {
    case T_NULL:
      return null;
    case T_STRING:
      return stripNuls(decodeUtf16(r.bytes, offset, size >>> 1));
    case T_ANSI_STRING:
      return stripNuls(latin1(r.bytes, offset, size));
    case T_BIN_XML:
      return parser.parseEmbedded(offset, size, depth);
    case T_EVT_XML:
      return stripNuls(decodeUtf16(r.bytes, offset, size >>> 1));
    case T_BINARY:
      return hexUpper(r.bytes, offset, offset + size);
    case T_SIZE_T:
      if (size === 4) return hex32(r.view.getUint32(offset, true));
      if (size === 8) return hex64(r.view.getBigUint64(offset, true));
      return fail('bad_value_size', `SizeT of ${size} bytes`);
    case T_EVT_HANDLE:
      if (size === 4) return r.view.getUint32(offset, true);
      if (size === 8) return u64Json(r.view.getBigUint64(offset, true));
      return fail('bad_value_size', `EvtHandle of ${size} bytes`);
    case T_SID: {
      const sid = decodeSid(r, offset, size);
      return sid.text;
    }
    default: {
      const want = FIXED_SIZE[type] ?? 0;
      if (want === 0) return fail('bad_value_type', `unknown value type 0x${type.toString(16)}`);
      // A zero-sized value of a fixed type is how optional substitutions say "absent".
      if (size === 0) return null;
      if (size < want)
        return fail('bad_value_size', `type 0x${type.toString(16)} needs ${want} bytes, got ${size}`);
      return decodeFixed(r, offset, type);
    }
  }
}

function decodeArray(r: ByteReader, offset: number, size: number, base: number): JsonValue {
  const end = offset + size;
  const out: JsonValue[] = [];
  if (base === T_STRING) {
    // NUL-terminated UTF-16 strings, back to back.
    let start = offset;
    for (let p = offset; p + 1 < end; p += 2) {
      if (r.bytes[p] === 0 && r.bytes[p + 1] === 0) {
        out.push(decodeUtf16(r.bytes, start, (p - start) >>> 1));
        start = p + 2;
      }
    }
    if (start + 1 < end) out.push(stripNuls(decodeUtf16(r.bytes, start, (end - start) >>> 1)));
    return out;
  }
  if (base === T_ANSI_STRING) {
    let start = offset;
    for (let p = offset; p < end; p++) {
      if (r.bytes[p] === 0) {
        out.push(latin1(r.bytes, start, p - start));
        start = p + 1;
      }
    }
    if (start < end) out.push(latin1(r.bytes, start, end - start));
    return out;
  }
  if (base === T_SID) {
    let p = offset;
    while (p < end) {
      const sid = decodeSid(r, p, end - p);
      out.push(sid.text);
      p += sid.size;
    }
    return out;
  }
  const width = base === T_SIZE_T ? 8 : (FIXED_SIZE[base] ?? 0);
  if (width === 0) return fail('bad_value_type', `unsupported array of type 0x${base.toString(16)}`);
  if (size % width !== 0)
    return fail('bad_value_size', `array of ${size} bytes is not a multiple of ${width}`);
  for (let p = offset; p < end; p += width) {
    out.push(base === T_SIZE_T ? hex64(r.view.getBigUint64(p, true)) : decodeFixed(r, p, base));
  }
  return out;
}

function decodeFixed(r: ByteReader, o: number, type: number): JsonValue {
  const v = r.view;
  switch (type) {
    case T_INT8:
      return v.getInt8(o);
    case T_UINT8:
      return v.getUint8(o);
    case T_INT16:
      return v.getInt16(o, true);
    case T_UINT16:
      return v.getUint16(o, true);
    case T_INT32:
      return v.getInt32(o, true);
    case T_UINT32:
      return v.getUint32(o, true);
    case T_INT64:
      return i64Json(v.getBigInt64(o, true));
    case T_UINT64:
      return u64Json(v.getBigUint64(o, true));
    case T_REAL32:
      return finiteOrString(shortestFloat32(v.getFloat32(o, true)));
    case T_REAL64:
      return finiteOrString(v.getFloat64(o, true));
    case T_BOOL:
      return v.getUint32(o, true) !== 0;
    case T_GUID:
      return formatGuid(r.bytes, o);
    case T_FILE_TIME:
      return formatFiletime(v.getUint32(o, true), v.getUint32(o + 4, true));
    case T_SYS_TIME:
      return formatSystemtime(v, o);
    case T_HEX_INT32:
      return hex32(v.getUint32(o, true));
    case T_HEX_INT64:
      return hex64(v.getBigUint64(o, true));
    default:
      return fail('bad_value_type', `unknown fixed value type 0x${type.toString(16)}`);
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16)}`;
}

function hex64(n: bigint): string {
  return `0x${n.toString(16)}`;
}

/** 64-bit integers become JSON numbers when exact, decimal strings otherwise (JSON numbers are doubles here). */
function u64Json(n: bigint): number | string {
  return n <= 9_007_199_254_740_991n ? Number(n) : n.toString();
}

function i64Json(n: bigint): number | string {
  return n <= 9_007_199_254_740_991n && n >= -9_007_199_254_740_991n ? Number(n) : n.toString();
}

/** The shortest decimal that reads back as the same 32-bit float (1.1, not 1.100000023841858). */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/** JSON has no NaN, Infinity or -0: the first two become strings, -0 becomes 0. */
function finiteOrString(n: number): number | string {
  if (!Number.isFinite(n)) return String(n);
  return n === 0 ? 0 : n;
}

/** Pure; a GUID's 16 bytes (mixed-endian) as `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`. */
export function formatGuid(b: Uint8Array, o: number): string {
  return (
    hexUpper(b, o + 3, o + 4) +
    hexUpper(b, o + 2, o + 3) +
    hexUpper(b, o + 1, o + 2) +
    hexUpper(b, o, o + 1) +
    '-' +
    hexUpper(b, o + 5, o + 6) +
    hexUpper(b, o + 4, o + 5) +
    '-' +
    hexUpper(b, o + 7, o + 8) +
    hexUpper(b, o + 6, o + 7) +
    '-' +
    hexUpper(b, o + 8, o + 10) +
    '-' +
    hexUpper(b, o + 10, o + 16)
  );
}

function formatSystemtime(v: DataView, o: number): string | null {
  const year = v.getUint16(o, true);
  const month = v.getUint16(o + 2, true);
  const day = v.getUint16(o + 6, true);
  const hour = v.getUint16(o + 8, true);
  const minute = v.getUint16(o + 10, true);
  const second = v.getUint16(o + 12, true);
  const milli = v.getUint16(o + 14, true);
  if (year === 0 && month === 0 && day === 0) return null;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour > 23 ||
    minute > 59 ||
    second > 60 ||
    milli > 999
  )
    return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, milli);
  return formatMicros(ms, 0);
}

function decodeSid(r: ByteReader, offset: number, available: number): { text: string; size: number } {
  if (available < 8) return fail('bad_sid', 'SID shorter than its header');
  const revision = r.u8(offset);
  const count = r.u8(offset + 1);
  const size = 8 + count * 4;
  if (size > available) return fail('bad_sid', `SID with ${count} sub-authorities overruns its value`);
  // The 48-bit identifier authority is big-endian.
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + (r.bytes[offset + i] as number);
  let text = `S-${revision}-${authority}`;
  for (let i = 0; i < count; i++) text += `-${r.view.getUint32(offset + 8 + i * 4, true)}`;
  return { text, size };
}

function latin1(b: Uint8Array, offset: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) s += String.fromCharCode(b[offset + i] as number);
  return s;
}

function stripNuls(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  return end === s.length ? s : s.slice(0, end);
}
