/**
 * A small EVTX writer for tests: builds files with chosen BinXml (elements, attributes, templates,
 * substitutions, embedded fragments, every value type) so the decoder can be tested on shapes the
 * regression data does not contain, and on precisely damaged input. Follows the published layout:
 * 4096-byte file header, 64 KiB chunks with a 512-byte header, `**\0\0` records, BinXml fragments.
 */
import { crc32 } from '../../../src/ingest/evtx/crc32.js';

export type XNode =
  | XElement
  | XPart
  | { readonly cdata: string }
  | { readonly instance: Template; readonly values: readonly XValue[] };

export interface XElement {
  readonly el: string;
  readonly attrs?: ReadonlyArray<readonly [string, readonly XPart[]]>;
  readonly children?: readonly XNode[];
  /** Leave out the two-byte dependency identifier, as some writers do. */
  readonly noDependencyId?: boolean;
}

export type XPart =
  | { readonly text: string }
  | { readonly sub: number; readonly type: number; readonly optional?: boolean }
  | { readonly charRef: number }
  | { readonly entity: string };

/** A template definition; written inline at its first instance in a chunk, referenced by offset after. */
export interface Template {
  readonly id: number;
  readonly body: readonly XNode[];
}

/** A substitution value: raw bytes of a type, or (type 0x21) an embedded BinXml fragment. */
export type XValue =
  | { readonly type: number; readonly bytes: Uint8Array }
  | { readonly type: 0x21; readonly fragment: readonly XNode[] };

export const CHUNK = 65536;

class Writer {
  readonly buf = new Uint8Array(CHUNK);
  readonly view = new DataView(this.buf.buffer);
  pos = 512;
  readonly names = new Map<string, number>();
  readonly templates = new Map<number, number>();
  /** Reuse earlier names by offset (as Windows does) instead of writing every one inline. */
  constructor(readonly shareNames: boolean) {}

  room(n: number): void {
    if (this.pos + n > CHUNK) throw new Error('test chunk overflow');
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  patch16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }

  name(s: string): void {
    const known = this.shareNames ? this.names.get(s) : undefined;
    if (known !== undefined) {
      this.u32(known);
      return;
    }
    const at = this.pos + 4;
    this.u32(at);
    this.names.set(s, at);
    this.u32(0); // next name in the hash bucket
    this.u16(0); // hash (unused by readers)
    this.u16(s.length);
    this.raw(utf16(s));
    this.u16(0);
  }

  node(n: XNode): void {
    if ('el' in n) return this.element(n);
    if ('instance' in n) return this.instance(n.instance, n.values);
    if ('cdata' in n) {
      this.u8(0x07);
      this.u16(n.cdata.length);
      this.raw(utf16(n.cdata));
      return;
    }
    this.part(n);
  }

  part(p: XPart): void {
    if ('text' in p) {
      this.u8(0x05);
      this.u8(0x01);
      this.u16(p.text.length);
      this.raw(utf16(p.text));
    } else if ('sub' in p) {
      this.u8(p.optional ? 0x0e : 0x0d);
      this.u16(p.sub);
      this.u8(p.type);
    } else if ('charRef' in p) {
      this.u8(0x08);
      this.u16(p.charRef);
    } else {
      this.u8(0x09);
      this.name(p.entity);
    }
  }

  element(e: XElement): void {
    const attrs = e.attrs ?? [];
    this.u8(attrs.length > 0 ? 0x41 : 0x01);
    if (!e.noDependencyId) this.u16(0xffff);
    const sizeAt = this.pos;
    this.u32(0);
    this.name(e.el);
    if (attrs.length > 0) {
      const listAt = this.pos;
      this.u32(0);
      attrs.forEach(([name, parts], i) => {
        this.u8(i < attrs.length - 1 ? 0x46 : 0x06);
        this.name(name);
        for (const p of parts) this.part(p);
      });
      this.patch32(listAt, this.pos - listAt - 4);
    }
    const children = e.children ?? [];
    if (children.length === 0) {
      this.u8(0x03);
    } else {
      this.u8(0x02);
      for (const c of children) this.node(c);
      this.u8(0x04);
    }
    this.patch32(sizeAt, this.pos - sizeAt - 4);
  }

  fragment(nodes: readonly XNode[]): void {
    this.raw(new Uint8Array([0x0f, 0x01, 0x01, 0x00]));
    for (const n of nodes) this.node(n);
    this.u8(0x00);
  }

  instance(t: Template, values: readonly XValue[]): void {
    this.u8(0x0c);
    this.u8(0x01);
    this.u32(t.id);
    const known = this.templates.get(t.id);
    if (known !== undefined) {
      this.u32(known);
    } else {
      const at = this.pos + 4;
      this.u32(at);
      this.templates.set(t.id, at);
      this.u32(0); // next template
      const guid = new Uint8Array(16);
      new DataView(guid.buffer).setUint32(0, t.id, true);
      this.raw(guid);
      const sizeAt = this.pos;
      this.u32(0);
      this.fragment(t.body);
      this.patch32(sizeAt, this.pos - sizeAt - 4);
    }
    this.u32(values.length);
    const descriptorsAt = this.pos;
    for (const v of values) {
      this.u16(0);
      this.u8(v.type);
      this.u8(0);
    }
    values.forEach((v, i) => {
      const start = this.pos;
      if ('fragment' in v) this.fragment(v.fragment);
      else this.raw(v.bytes);
      this.patch16(descriptorsAt + i * 4, this.pos - start);
    });
  }
}

export interface RecordSpec {
  readonly id: number;
  /** FILETIME ticks of the record header. */
  readonly written?: bigint;
  readonly nodes: readonly XNode[];
}

export interface BuiltChunk {
  readonly bytes: Uint8Array;
  /** Chunk-relative offset of each record. */
  readonly recordOffsets: readonly number[];
  /** Chunk-relative offset of each template definition, by template id. */
  readonly templateOffsets: ReadonlyMap<number, number>;
}

/** Builds one 64 KiB chunk holding `records`, with correct header fields and checksums. */
export function buildChunk(
  records: readonly RecordSpec[],
  options: { shareNames?: boolean } = {},
): BuiltChunk {
  const w = new Writer(options.shareNames ?? true);
  const offsets: number[] = [];
  for (const r of records) {
    const start = w.pos;
    offsets.push(start);
    w.u32(0x00002a2a);
    w.u32(0);
    w.u64(BigInt(r.id));
    w.u64(r.written ?? 133_000_000_000_000_000n);
    w.fragment(r.nodes);
    const size = w.pos - start + 4;
    w.u32(size);
    w.patch32(start + 4, size);
  }
  const b = w.buf;
  b.set([0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00]);
  const first = records[0]?.id ?? 0;
  const last = records.at(-1)?.id ?? 0;
  const v = w.view;
  v.setBigUint64(8, BigInt(first), true);
  v.setBigUint64(16, BigInt(last), true);
  v.setBigUint64(24, BigInt(first), true);
  v.setBigUint64(32, BigInt(last), true);
  v.setUint32(40, 128, true);
  v.setUint32(44, offsets.at(-1) ?? 0, true);
  v.setUint32(48, w.pos, true);
  fixChunkChecksums(b);
  return { bytes: b, recordOffsets: offsets, templateOffsets: w.templates };
}

/** Recomputes a chunk's record-data and header CRC32s in place (so damage reaches the BinXml decoder). */
export function fixChunkChecksums(chunk: Uint8Array): void {
  if (chunk.length < 512) return;
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const free = v.getUint32(48, true);
  if (free >= 512 && free <= chunk.length) v.setUint32(52, crc32(chunk, 512, free), true);
  v.setUint32(124, crc32(chunk, 128, 512, crc32(chunk, 0, 120)), true);
}

/** Recomputes every chunk's checksums in a whole file image. */
export function fixFileChecksums(file: Uint8Array): void {
  for (let off = 4096; off + 512 <= file.length; off += CHUNK) {
    if (file[off] === 0x45 && file[off + 1] === 0x6c)
      fixChunkChecksums(file.subarray(off, Math.min(off + CHUNK, file.length)));
  }
}

/** A file image: a valid header followed by the given chunks. */
export function buildFile(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(4096 + CHUNK * chunks.length);
  out.set([0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]);
  const v = new DataView(out.buffer);
  v.setBigUint64(8, 0n, true);
  v.setBigUint64(16, BigInt(Math.max(0, chunks.length - 1)), true);
  v.setBigUint64(24, 1n, true);
  v.setUint32(32, 128, true);
  v.setUint16(36, 2, true);
  v.setUint16(38, 3, true);
  v.setUint16(40, 4096, true);
  v.setUint16(42, chunks.length, true);
  v.setUint32(124, crc32(out, 0, 120), true);
  chunks.forEach((c, i) => out.set(c, 4096 + i * CHUNK));
  return out;
}

// ---- value encoders ----

export function utf16(s: string): Uint8Array {
  const b = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    b[i * 2] = s.charCodeAt(i) & 0xff;
    b[i * 2 + 1] = s.charCodeAt(i) >>> 8;
  }
  return b;
}

function le(size: number, set: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  set(new DataView(b.buffer));
  return b;
}

export const val = {
  null: (): XValue => ({ type: 0x00, bytes: new Uint8Array(0) }),
  string: (s: string): XValue => ({ type: 0x01, bytes: utf16(s) }),
  ansi: (s: string): XValue => ({ type: 0x02, bytes: Uint8Array.from(s, (c) => c.charCodeAt(0)) }),
  int8: (n: number): XValue => ({ type: 0x03, bytes: le(1, (v) => v.setInt8(0, n)) }),
  uint8: (n: number): XValue => ({ type: 0x04, bytes: le(1, (v) => v.setUint8(0, n)) }),
  int16: (n: number): XValue => ({ type: 0x05, bytes: le(2, (v) => v.setInt16(0, n, true)) }),
  uint16: (n: number): XValue => ({ type: 0x06, bytes: le(2, (v) => v.setUint16(0, n, true)) }),
  int32: (n: number): XValue => ({ type: 0x07, bytes: le(4, (v) => v.setInt32(0, n, true)) }),
  uint32: (n: number): XValue => ({ type: 0x08, bytes: le(4, (v) => v.setUint32(0, n, true)) }),
  int64: (n: bigint): XValue => ({ type: 0x09, bytes: le(8, (v) => v.setBigInt64(0, n, true)) }),
  uint64: (n: bigint): XValue => ({ type: 0x0a, bytes: le(8, (v) => v.setBigUint64(0, n, true)) }),
  real32: (n: number): XValue => ({ type: 0x0b, bytes: le(4, (v) => v.setFloat32(0, n, true)) }),
  real64: (n: number): XValue => ({ type: 0x0c, bytes: le(8, (v) => v.setFloat64(0, n, true)) }),
  bool: (b: boolean): XValue => ({ type: 0x0d, bytes: le(4, (v) => v.setUint32(0, b ? 1 : 0, true)) }),
  binary: (bytes: number[]): XValue => ({ type: 0x0e, bytes: Uint8Array.from(bytes) }),
  /** From the canonical text form `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` (first three groups little-endian). */
  guid: (text: string): XValue => {
    const h = text.replace(/-/g, '');
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint32(0, parseInt(h.slice(0, 8), 16), true);
    v.setUint16(4, parseInt(h.slice(8, 12), 16), true);
    v.setUint16(6, parseInt(h.slice(12, 16), 16), true);
    for (let i = 0; i < 8; i++) b[8 + i] = parseInt(h.slice(16 + i * 2, 18 + i * 2), 16);
    return { type: 0x0f, bytes: b };
  },
  sizeT64: (n: bigint): XValue => ({ type: 0x10, bytes: le(8, (v) => v.setBigUint64(0, n, true)) }),
  /** From a Date plus extra 100 ns ticks. */
  filetime: (ms: number, extraTicks = 0n): XValue => ({
    type: 0x11,
    bytes: le(8, (v) => v.setBigUint64(0, (BigInt(ms) + 11_644_473_600_000n) * 10_000n + extraTicks, true)),
  }),
  systemtime: (d: Date): XValue => ({
    type: 0x12,
    bytes: le(16, (v) => {
      [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDay(),
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
        d.getUTCMilliseconds(),
      ].forEach((x, i) => v.setUint16(i * 2, x, true));
    }),
  }),
  /** From `S-r-a-s1-s2-...`. */
  sid: (text: string): XValue => {
    const [, rev, auth, ...subs] = text.split('-');
    return {
      type: 0x13,
      bytes: le(8 + subs.length * 4, (v) => {
        v.setUint8(0, Number(rev));
        v.setUint8(1, subs.length);
        const a = BigInt(auth ?? '0');
        for (let i = 0; i < 6; i++) v.setUint8(2 + i, Number((a >> BigInt(8 * (5 - i))) & 0xffn));
        subs.forEach((s, i) => v.setUint32(8 + i * 4, Number(s), true));
      }),
    };
  },
  hex32: (n: number): XValue => ({ type: 0x14, bytes: le(4, (v) => v.setUint32(0, n, true)) }),
  hex64: (n: bigint): XValue => ({ type: 0x15, bytes: le(8, (v) => v.setBigUint64(0, n, true)) }),
  stringArray: (items: string[]): XValue => ({
    type: 0x81,
    bytes: utf16(items.map((s) => `${s}\0`).join('')),
  }),
  uint16Array: (items: number[]): XValue => ({
    type: 0x86,
    bytes: le(items.length * 2, (v) => items.forEach((x, i) => v.setUint16(i * 2, x, true))),
  }),
  xml: (fragment: XNode[]): XValue => ({ type: 0x21, fragment }),
};
