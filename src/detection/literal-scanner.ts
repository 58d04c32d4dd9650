/**
 * The prefilter's search in one field: every literal of a set present in a value, compared as the
 * prefilter compares (lower case, literals cut by `scannedLiteral`).
 *
 * Literals of four characters or more are found through an anchor: four consecutive characters of the
 * literal, the rarest among the set's literals. The scan packs the last four characters of the text
 * (lower-cased, 8 bits each) into one integer, tests one bit of a hashed bitmap, and only when that bit
 * is set looks the anchor up and compares the literals anchored on it with the text around it. The
 * bitmap of the largest SigmaHQ field (process creation's CommandLine, about 10,000 literals) is 32 KiB,
 * where that field's Aho-Corasick automaton took 6 MB: a hunt's scan waits on memory, and between two
 * events of different kinds the other work (parsing, rule tests) evicts whatever the scan had in cache.
 * Shorter literals stay in a (small) `LiteralAutomaton`.
 *
 * A character past ASCII packs as 0x80 | its low 7 bits: lossy, so an anchor may be looked up for
 * nothing, never missed, since the compare is exact. Text with such characters is scanned lower-cased
 * (`text.toLowerCase()`), as `LiteralAutomaton` does; ASCII text needs no lower-cased copy, and cannot
 * hold a literal with a character past ASCII (literals are lower-cased too).
 */
import { appendHits, LiteralAutomaton, scannedLiteral, type HitBuffer } from './prefilter.js';
import {
  ANCHOR_BIT_MIX,
  ANCHOR_SLOT_MIX,
  ASCII_LOWER as LOWER,
  type PlacedAnchors,
  type ScanArena,
} from './scan-arena.js';

/** Characters in an anchor: four 8-bit codes fill an int32. */
const ANCHOR = 4;
/** Bitmap bits per distinct anchor (a power of two at least): about 6% of the bits are set. */
const BITS_PER_ANCHOR = 16;
const MIN_BITS_LOG = 10;
/** 2^19 bits: 64 KiB. */
const MAX_BITS_LOG = 19;

const FOUND = new Int32Array(1);

/** A character as the scan packs it: ASCII as it is (lower-cased before), others lossily. */
const packed = (c: number): number => (c < 128 ? c : 0x80 | (c & 0x7f));

/** The anchor starting at `at` in a lower-cased `text`, packed as the scan packs it. */
function pack(text: string, at: number): number {
  let anchor = 0;
  for (let k = 0; k < ANCHOR; k++) anchor = (anchor << 8) | packed(text.charCodeAt(at + k));
  return anchor;
}

/** Where the anchors of `literal` may start (four NUL characters pack to 0, the keys' empty slot). */
function anchorPositions(literal: string): number[] {
  const out: number[] = [];
  for (let at = 0; at + ANCHOR <= literal.length; at++) if (pack(literal, at) !== 0) out.push(at);
  return out;
}

interface Anchored {
  readonly literal: string;
  readonly id: number;
  /** Characters of the literal before its anchor. */
  readonly offset: number;
  readonly anchor: number;
}

export class LiteralScanner {
  private readonly automaton: LiteralAutomaton;
  private automatonLiterals = 0;
  private pending: Array<{ literal: string; id: number }> | null = [];
  private bits = new Int32Array(1);
  private bitShift = 31;
  private keys = new Int32Array(1);
  private slotShift = 31;
  private slotStart = new Int32Array(2);
  private literals: string[] = [];
  private offsets = new Int32Array(0);
  private ids = new Int32Array(0);
  /** The anchor tables in the arena, when they could be placed there. */
  private placed: PlacedAnchors | null = null;

  /** @param arena where the tables go for scans in WebAssembly (null: scans in JavaScript) */
  constructor(private readonly arena: ScanArena | null = null) {
    this.automaton = new LiteralAutomaton(undefined, arena);
  }

  /** Adds a literal with a payload id. Must be called before the first search. */
  add(text: string, id: number): void {
    if (this.pending === null) throw new Error('LiteralScanner: add after build');
    this.pending.push({ literal: scannedLiteral(text), id });
  }

  /** How many literals are found by anchors, and how many by the automaton (for tests). */
  get sizes(): { anchored: number; automaton: number } {
    if (this.pending !== null) this.build();
    return { anchored: this.literals.length, automaton: this.automatonLiterals };
  }

  /** Bytes of the anchors' bitmap (what each scanned character reads). */
  get bitmapBytes(): number {
    if (this.pending !== null) this.build();
    return this.bits.length * 4;
  }

  private build(): void {
    const pending = this.pending!;
    this.pending = null;
    // How many literals each anchor occurs in: a literal is anchored on its rarest (the last of equals).
    const positions = pending.map((p) => anchorPositions(p.literal));
    const frequency = new Map<number, number>();
    pending.forEach((p, i) => {
      for (const anchor of new Set(positions[i]!.map((at) => pack(p.literal, at))))
        frequency.set(anchor, (frequency.get(anchor) ?? 0) + 1);
    });
    const anchored: Anchored[] = [];
    pending.forEach((p, i) => {
      const at = positions[i]!;
      if (at.length === 0) {
        this.automaton.add(p.literal, p.id);
        this.automatonLiterals++;
        return;
      }
      let best = at[0]!;
      for (const a of at)
        if (frequency.get(pack(p.literal, a))! <= frequency.get(pack(p.literal, best))!) best = a;
      anchored.push({ literal: p.literal, id: p.id, offset: best, anchor: pack(p.literal, best) });
    });
    if (anchored.length === 0) return;
    const distinct = [...new Set(anchored.map((a) => a.anchor))];
    let bitsLog = MIN_BITS_LOG;
    while (bitsLog < MAX_BITS_LOG && 1 << bitsLog < distinct.length * BITS_PER_ANCHOR) bitsLog++;
    const bits = new Int32Array((1 << bitsLog) >>> 5);
    const bitShift = 32 - bitsLog;
    let slotLog = 1;
    while (1 << slotLog < distinct.length * 2) slotLog++;
    const slotShift = 32 - slotLog;
    const mask = (1 << slotLog) - 1;
    const keys = new Int32Array(1 << slotLog);
    const slotOf = new Map<number, number>();
    for (const anchor of distinct) {
      const bit = Math.imul(anchor, ANCHOR_BIT_MIX) >>> bitShift;
      bits[bit >>> 5]! |= 1 << (bit & 31);
      let slot = Math.imul(anchor, ANCHOR_SLOT_MIX) >>> slotShift;
      while (keys[slot] !== 0) slot = (slot + 1) & mask;
      keys[slot] = anchor;
      slotOf.set(anchor, slot);
    }
    anchored.sort((a, b) => slotOf.get(a.anchor)! - slotOf.get(b.anchor)!);
    const slotStart = new Int32Array(keys.length + 1);
    let e = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      slotStart[slot] = e;
      while (e < anchored.length && slotOf.get(anchored[e]!.anchor) === slot) e++;
    }
    slotStart[keys.length] = e;
    this.bits = bits;
    this.bitShift = bitShift;
    this.keys = keys;
    this.slotShift = slotShift;
    this.slotStart = slotStart;
    this.literals = anchored.map((a) => a.literal);
    this.offsets = Int32Array.from(anchored, (a) => a.offset);
    this.ids = Int32Array.from(anchored, (a) => a.id);
    this.placed =
      this.arena?.placeAnchors(
        bits,
        bitShift,
        keys,
        slotShift,
        slotStart,
        this.literals,
        this.offsets,
        this.ids,
      ) ?? null;
  }

  /**
   * Scans characters [from, to) of the text loaded in `arena` (`ScanArena.load`); the hits are
   * `arena.words[hitBase .. hitBase + count)`. Returns the count, or a negative number when this range
   * must be scanned text by text with `scan` instead (a character past ASCII, tables not in the arena,
   * no room for the hits).
   */
  scanLoaded(arena: ScanArena, from: number, to: number): number {
    if (this.pending !== null) this.build();
    for (;;) {
      let count = 0;
      if (this.automatonLiterals > 0) {
        const tables = this.automaton.tables();
        if (tables === null || tables.arena !== arena) return -1;
        count = arena.scanLoaded(tables, from, to);
        if (count < 0) return count;
      }
      if (this.literals.length === 0) return count;
      const placed = this.placed;
      if (placed === null || placed.arena !== arena) return -1;
      const more = arena.scanAnchorsLoaded(placed, from, to, count);
      if (more >= 0) return count + more;
      if (more === -1 || count === 0 || !arena.growHits()) return more;
      // The two scans' hits together outgrew the area: both again in a larger one.
    }
  }

  /** Appends to `hits` the id of every literal present in `text` lower-cased (ids may repeat). */
  scan(text: string, hits: HitBuffer): void {
    if (this.pending !== null) this.build();
    if (this.automatonLiterals > 0) this.automaton.scan(text, hits);
    if (this.literals.length === 0) return;
    const placed = this.placed;
    if (placed !== null) {
      const count = placed.arena.scanAnchorsText(placed, text);
      if (count >= 0) {
        appendHits(hits, placed.arena.words, placed.arena.hitBase, count);
        return;
      }
    }
    const start = hits.count;
    if (!this.run(text, hits, true)) {
      hits.count = start;
      this.run(text.toLowerCase(), hits, false);
    }
  }

  /** The scan in JavaScript; with `asciiOnly`, gives up (returns false) at the first non-ASCII character. */
  private run(text: string, hits: HitBuffer, asciiOnly: boolean): boolean {
    const bits = this.bits;
    const bitShift = this.bitShift;
    let anchor = 0;
    for (let i = 0, n = text.length; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c >= 128) {
        if (asciiOnly) return false;
        c = packed(c);
      } else {
        c = LOWER[c]!;
      }
      anchor = (anchor << 8) | c;
      if (i < ANCHOR - 1) continue;
      const bit = Math.imul(anchor, ANCHOR_BIT_MIX) >>> bitShift;
      if ((bits[bit >>> 5]! & (1 << (bit & 31))) !== 0) this.compare(text, i + 1 - ANCHOR, anchor, hits);
    }
    return true;
  }

  /** Reports the literals anchored on `anchor` that `text` holds with that anchor at `at`. */
  private compare(text: string, at: number, anchor: number, hits: HitBuffer): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let slot = Math.imul(anchor, ANCHOR_SLOT_MIX) >>> this.slotShift;
    for (;;) {
      const key = keys[slot]!;
      if (key === 0) return;
      if (key === anchor) break;
      slot = (slot + 1) & mask;
    }
    for (let e = this.slotStart[slot]!, end = this.slotStart[slot + 1]!; e < end; e++) {
      const literal = this.literals[e]!;
      const from = at - this.offsets[e]!;
      if (from < 0 || from + literal.length > text.length) continue;
      let same = true;
      for (let k = 0; k < literal.length && same; k++) {
        const c = text.charCodeAt(from + k);
        same = (c < 128 ? LOWER[c]! : c) === literal.charCodeAt(k);
      }
      if (same) {
        FOUND[0] = this.ids[e]!;
        appendHits(hits, FOUND, 0, 1);
      }
    }
  }
}
