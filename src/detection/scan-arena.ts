/**
 * The prefilter's scan loops in WebAssembly, with their tables and one event's text in its memory: the
 * anchor scan of `LiteralScanner` (most literals) and the automaton scan of `LiteralAutomaton` (literals
 * under four characters). In JavaScript a scan loop costs about 60 instructions a character
 * (`charCodeAt` dispatches on the string's representation, every typed-array read checks its bounds);
 * here about 18. The text of an event's values crosses once per event, joined, as UTF-16 code units
 * (with Node's Buffer a native copy; `TextEncoder.encodeInto` would write UTF-8, whose offsets differ
 * from the strings' as soon as one character is not ASCII, and costs 8 instructions a character). A
 * value with a character past ASCII is scanned again on its own, lower-cased.
 *
 * The scans wait on memory, not on instructions. When every literal went through automata, a Sysmon
 * process-creation event walked some 600 characters through automata of up to 35,000 states (6 MB
 * compacted: one uint16 entry per state and character class, states with outputs numbered last, so a
 * number at or above `firstOutput` says "report" without another read), and deep states (the long
 * shared prefixes of paths like `c:\windows\system32\`) cost a cache and TLB miss apiece, evicted by what
 * runs between two events. The anchor scan reads a bitmap of at most 64 KiB per field instead and
 * touches the rest of its tables only where an anchor may be (see `LiteralScanner`); the automata left
 * hold a few hundred states at most.
 */
import { assembleModule, op, type WasmFunction } from './wasm-assembler.js';

/** Columns of a table row, as in `LiteralAutomaton`. */
export const SCAN_COLUMNS = 144;
const PAGE = 65_536;
/** At most 1 GiB: addresses stay well inside int32. */
const MAX_BYTES = 1 << 30;
const INITIAL_HITS = 1 << 14;

/** Where an automaton's tables lie in an arena (byte addresses) and their shape. */
export interface PlacedTables {
  readonly arena: ScanArena;
  /** states × classes uint16 entries: the target's state number. */
  readonly table: number;
  /** 128 bytes: the class of each ASCII code (characters past ASCII: class 1 + code % 16). */
  readonly classMap: number;
  readonly classes: number;
  /** States numbered from here on have outputs. */
  readonly firstOutput: number;
  /** int32, states + 1 entries (in the arena's numbering), and the output ids they delimit. */
  readonly outStart: number;
  readonly outIds: number;
  readonly states: number;
  readonly outputs: number;
}

/** The most states a placed automaton may have: state numbers are uint16. */
export const MAX_PLACED_STATES = 65_536;

// Parameters and locals of the scan functions.
const TABLE = 0;
const CLASS_MAP = 1;
const CLASSES = 2;
const FIRST_OUTPUT = 3;
const OUT_START = 4;
const OUT_IDS = 5;
const TEXT = 6;
const TEXT_END = 7;
const HITS = 8;
const HITS_END = 9;
const STATE = 10;
const CHAR = 11;
const FROM = 12;
const TO = 13;
const CURSOR = 14;

/**
 * scan(table, classMap, classes, firstOutput, outStart, outIds, text, textEnd, hits, hitsEnd) -> hit
 * count, or -2 when the hits area is full. The text is UTF-16 code units. `wide` maps the units past
 * ASCII to their class (1 + code % 16); narrow returns -1 at the first of them (the text must then be
 * scanned lower-cased).
 */
function scanFunction(wide: boolean): WasmFunction {
  // CHAR ends up holding the character's class.
  const readChar = [
    op.get(TEXT),
    op.load16,
    op.set(CHAR),
    op.get(TEXT),
    op.const(2),
    op.add,
    op.set(TEXT),
    op.get(CHAR),
    op.const(127),
    op.gtU,
    op.if,
    ...(wide
      ? [op.get(CHAR), op.const(15), op.and, op.const(1), op.add, op.set(CHAR)]
      : [op.const(-1), op.return]),
    op.else,
    op.get(CLASS_MAP),
    op.get(CHAR),
    op.add,
    op.load8,
    op.set(CHAR),
    op.end,
  ];
  return {
    name: wide ? 'scanWide' : 'scanNarrow',
    params: 10,
    locals: 5,
    body: [
      op.get(HITS),
      op.set(CURSOR),
      op.block,
      op.loop,
      // while (text < textEnd)
      op.get(TEXT),
      op.get(TEXT_END),
      op.geU,
      op.brIf(1),
      ...readChar,
      // state = table[state × classes + class]
      op.get(STATE),
      op.get(CLASSES),
      op.mul,
      op.get(CHAR),
      op.add,
      op.const(1),
      op.shl,
      op.get(TABLE),
      op.add,
      op.load16,
      op.tee(STATE),
      op.get(FIRST_OUTPUT),
      op.geU,
      op.if,
      // the state has outputs: from = outStart[state], to = outStart[state + 1]
      op.get(STATE),
      op.const(2),
      op.shl,
      op.get(OUT_START),
      op.add,
      op.tee(FROM),
      op.load(4),
      op.set(TO),
      op.get(FROM),
      op.load(),
      op.set(FROM),
      // if (cursor + (to - from) * 4 > hitsEnd) return -2
      op.get(CURSOR),
      op.get(TO),
      op.get(FROM),
      op.sub,
      op.const(2),
      op.shl,
      op.add,
      op.get(HITS_END),
      op.gtU,
      op.if,
      op.const(-2),
      op.return,
      op.end,
      op.block,
      op.loop,
      op.get(FROM),
      op.get(TO),
      op.geU,
      op.brIf(1),
      op.get(CURSOR),
      op.get(OUT_IDS),
      op.get(FROM),
      op.const(2),
      op.shl,
      op.add,
      op.load(),
      op.store,
      op.get(CURSOR),
      op.const(4),
      op.add,
      op.set(CURSOR),
      op.get(FROM),
      op.const(1),
      op.add,
      op.set(FROM),
      op.br(0),
      op.end,
      op.end,
      op.end,
      op.br(0),
      op.end,
      op.end,
      // (cursor - hits) / 4
      op.get(CURSOR),
      op.get(HITS),
      op.sub,
      op.const(2),
      op.shrU,
    ],
  };
}

/** The lower case of each ASCII code (characters past ASCII are compared as they are). */
export const ASCII_LOWER = Uint8Array.from({ length: 128 }, (_, c) => (c >= 65 && c <= 90 ? c | 32 : c));

/** Multipliers of the anchor hashes: one picks the bitmap's bit, the other the key table's slot. */
export const ANCHOR_BIT_MIX = 0x9e3779b1 | 0;
export const ANCHOR_SLOT_MIX = 0x85ebca6b | 0;

/** Where an anchor table lies in an arena (byte addresses; see `ScanArena.placeAnchors`). */
export interface PlacedAnchors {
  readonly arena: ScanArena;
  /** Bitmap of anchor hashes (int32 words), and the shift that makes a hash of it. */
  readonly bits: number;
  readonly bitShift: number;
  /** Open-addressed keys (packed 4-character anchors; 0 is empty), their shift and mask. */
  readonly keys: number;
  readonly slotShift: number;
  readonly slotMask: number;
  /** int32, slots + 1 entries: the entries of slot s are slotStart[s] .. slotStart[s + 1]. */
  readonly slotStart: number;
  /** 16 bytes an entry: literal address, literal bytes, bytes from the literal's start to its anchor, id. */
  readonly entries: number;
  readonly entryCount: number;
}

// Parameters and locals of the anchor scan.
const A_BITS = 0;
const A_BIT_SHIFT = 1;
const A_KEYS = 2;
const A_SLOT_SHIFT = 3;
const A_SLOT_MASK = 4;
const A_SLOT_START = 5;
const A_ENTRIES = 6;
const A_LOWER = 7;
const A_TEXT = 8;
const A_TEXT_END = 9;
const A_HITS = 10;
const A_HITS_END = 11;
const A_START = 12;
const A_GRAM = 13;
const A_CHAR = 14;
const A_SLOT = 15;
const A_ENTRY_AT = 16;
const A_ENTRY_END = 17;
const A_FROM = 18;
const A_J = 19;
const A_LENGTH = 20;
const A_LITERAL = 21;
const A_CURSOR = 22;
const A_ENTRY = 23;
const A_KEY = 24;

/**
 * anchorScan(bits, bitShift, keys, slotShift, slotMask, slotStart, entries, lower, text, textEnd, hits,
 * hitsEnd) -> hit count, -1 (narrow: a character past ASCII) or -2 (the hits area is full).
 *
 * The last four characters, lower-cased, are packed into one int32 (8 bits each) as the scan goes; a
 * multiplicative hash of it picks a bit of the bitmap, which fits in the CPU's nearest caches. Only when
 * the bit is set does the scan look the anchor up in the key table and compare, character by character,
 * the literals anchored on it with the text around it.
 */
function anchorFunction(wide: boolean): WasmFunction {
  const lowerChar = [op.get(A_LOWER), op.get(A_CHAR), op.add, op.load8, op.set(A_CHAR)];
  // Depths below: inside the compare loop, 0 = compare loop, 1 = compare block, 2 = entry loop.
  const compareLiteral = [
    op.const(0),
    op.set(A_J),
    op.block,
    op.loop,
    op.get(A_J),
    op.get(A_LENGTH),
    op.geU,
    op.brIf(1),
    op.get(A_FROM),
    op.get(A_J),
    op.add,
    op.load16,
    op.set(A_CHAR),
    op.get(A_CHAR),
    op.const(128),
    op.ltU,
    op.if,
    ...lowerChar,
    op.end,
    op.get(A_CHAR),
    op.get(A_LITERAL),
    op.get(A_J),
    op.add,
    op.load16,
    op.ne,
    op.brIf(2), // a different character: the next entry
    op.get(A_J),
    op.const(2),
    op.add,
    op.set(A_J),
    op.br(0),
    op.end,
    op.end,
  ];
  const report = [
    op.get(A_CURSOR),
    op.const(4),
    op.add,
    op.get(A_HITS_END),
    op.gtU,
    op.if,
    op.const(-2),
    op.return,
    op.end,
    op.get(A_CURSOR),
    op.get(A_ENTRY),
    op.load(12),
    op.store,
    op.get(A_CURSOR),
    op.const(4),
    op.add,
    op.set(A_CURSOR),
  ];
  // Depths: inside the entry loop, 0 = entry loop, 1 = entry block.
  const entries = [
    op.get(A_SLOT_START),
    op.get(A_SLOT),
    op.const(2),
    op.shl,
    op.add,
    op.tee(A_ENTRY_AT),
    op.load(4),
    op.set(A_ENTRY_END),
    op.get(A_ENTRY_AT),
    op.load(),
    op.set(A_ENTRY_AT),
    op.block,
    op.loop,
    op.get(A_ENTRY_AT),
    op.get(A_ENTRY_END),
    op.geU,
    op.brIf(1),
    op.get(A_ENTRIES),
    op.get(A_ENTRY_AT),
    op.const(4),
    op.shl,
    op.add,
    op.set(A_ENTRY),
    op.get(A_ENTRY_AT),
    op.const(1),
    op.add,
    op.set(A_ENTRY_AT),
    // from = the anchor's first character - the bytes before it in the literal; inside the text?
    op.get(A_TEXT),
    op.const(8),
    op.sub,
    op.get(A_ENTRY),
    op.load(8),
    op.sub,
    op.set(A_FROM),
    op.get(A_FROM),
    op.get(A_START),
    op.ltU,
    op.brIf(0),
    op.get(A_ENTRY),
    op.load(4),
    op.set(A_LENGTH),
    op.get(A_FROM),
    op.get(A_LENGTH),
    op.add,
    op.get(A_TEXT_END),
    op.gtU,
    op.brIf(0),
    op.get(A_ENTRY),
    op.load(),
    op.set(A_LITERAL),
    ...compareLiteral,
    ...report,
    op.br(0),
    op.end,
    op.end,
  ];
  // Depths: inside the probe loop, 0 = probe loop, 1 = probe block.
  const probe = [
    op.get(A_GRAM),
    op.const(ANCHOR_SLOT_MIX),
    op.mul,
    op.get(A_SLOT_SHIFT),
    op.shrU,
    op.set(A_SLOT),
    op.block,
    op.loop,
    op.get(A_KEYS),
    op.get(A_SLOT),
    op.const(2),
    op.shl,
    op.add,
    op.load(),
    op.tee(A_KEY),
    op.eqz,
    op.brIf(1), // an empty slot: no literal is anchored here
    op.get(A_KEY),
    op.get(A_GRAM),
    op.eq,
    op.if,
    ...entries,
    op.br(2),
    op.end,
    op.get(A_SLOT),
    op.const(1),
    op.add,
    op.get(A_SLOT_MASK),
    op.and,
    op.set(A_SLOT),
    op.br(0),
    op.end,
    op.end,
  ];
  return {
    name: wide ? 'anchorWide' : 'anchorNarrow',
    params: 12,
    locals: 13,
    body: [
      op.get(A_HITS),
      op.set(A_CURSOR),
      op.get(A_TEXT),
      op.set(A_START),
      op.block,
      op.loop,
      op.get(A_TEXT),
      op.get(A_TEXT_END),
      op.geU,
      op.brIf(1),
      op.get(A_TEXT),
      op.load16,
      op.set(A_CHAR),
      op.get(A_TEXT),
      op.const(2),
      op.add,
      op.set(A_TEXT),
      op.get(A_CHAR),
      op.const(127),
      op.gtU,
      op.if,
      ...(wide
        ? [op.get(A_CHAR), op.const(127), op.and, op.const(128), op.or, op.set(A_CHAR)]
        : [op.const(-1), op.return]),
      op.else,
      ...lowerChar,
      op.end,
      op.get(A_GRAM),
      op.const(8),
      op.shl,
      op.get(A_CHAR),
      op.or,
      op.set(A_GRAM),
      // The anchor's bit. Before the fourth character the packed value starts with NULs; should it be
      // an anchor, its literals would start before the text, which the compare refuses.
      op.get(A_BITS),
      op.get(A_GRAM),
      op.const(ANCHOR_BIT_MIX),
      op.mul,
      op.get(A_BIT_SHIFT),
      op.shrU,
      op.tee(A_KEY),
      op.const(5),
      op.shrU,
      op.const(2),
      op.shl,
      op.add,
      op.load(),
      op.get(A_KEY),
      op.shrU,
      op.const(1),
      op.and,
      op.if,
      ...probe,
      op.end,
      op.br(0),
      op.end,
      op.end,
      op.get(A_CURSOR),
      op.get(A_HITS),
      op.sub,
      op.const(2),
      op.shrU,
    ],
  };
}

type AnchorFn = (
  bits: number,
  bitShift: number,
  keys: number,
  slotShift: number,
  slotMask: number,
  slotStart: number,
  entries: number,
  lower: number,
  text: number,
  textEnd: number,
  hits: number,
  hitsEnd: number,
) => number;

type ScanFn = (
  table: number,
  classMap: number,
  classes: number,
  firstOutput: number,
  outStart: number,
  outIds: number,
  text: number,
  textEnd: number,
  hits: number,
  hitsEnd: number,
) => number;

let compiled: WebAssembly.Module | undefined;

function scanModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(
    assembleModule([scanFunction(false), scanFunction(true), anchorFunction(false), anchorFunction(true)], 1),
  );
  return compiled;
}

/** Node's Buffer, when there is one: it copies a string's UTF-16 units into memory natively. */
interface NativeBytes {
  write(text: string, offset: number, encoding: 'utf16le'): number;
}
type NativeBytesFrom = (buffer: ArrayBuffer) => NativeBytes;
const nativeBytes: NativeBytesFrom | null = (() => {
  const B = (globalThis as { Buffer?: { from(buffer: ArrayBuffer): NativeBytes } }).Buffer;
  return B === undefined ? null : (buffer: ArrayBuffer) => B.from(buffer);
})();

/**
 * One WebAssembly memory: the tables of the automata placed in it (allocated upwards, never freed: an
 * arena lives as long as the rule set it serves), and scratch areas for the text being scanned and the
 * hits found. Not for concurrent use.
 */
export class ScanArena {
  private readonly memory: WebAssembly.Memory;
  private readonly scanNarrow: ScanFn;
  private readonly scanWide: ScanFn;
  private readonly anchorNarrow: AnchorFn;
  private readonly anchorWide: AnchorFn;
  /** 128 bytes: each ASCII code's lower case, for the anchor scan (-1: no room, no anchor tables). */
  private lower = -1;
  /** First free byte. */
  private top = 0;
  private bytes = new Uint8Array(0);
  /** The memory as int32 words: hits are read from `words[hitBase ...]`. */
  words = new Int32Array(0);
  private units = new Uint16Array(0);
  private native: NativeBytes | null = null;
  hitBase = 0;
  private hitsEnd = 0;
  /** The loaded text (`load`) and the text scanned on its own (`scanText`): byte address and size. */
  private textAt = 0;
  private textCapacity = 0;
  private asideAt = 0;
  private asideCapacity = 0;

  /** @param maxBytes the most memory the arena may take (at most 1 GiB; small values test the fallbacks) */
  constructor(private readonly maxBytes: number = MAX_BYTES) {
    if (maxBytes > MAX_BYTES || maxBytes < PAGE)
      throw new RangeError(`ScanArena: maxBytes ${maxBytes} out of range`);
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: Math.floor(maxBytes / PAGE) });
    const instance = new WebAssembly.Instance(scanModule(), { env: { memory: this.memory } });
    this.scanNarrow = instance.exports['scanNarrow'] as ScanFn;
    this.scanWide = instance.exports['scanWide'] as ScanFn;
    this.anchorNarrow = instance.exports['anchorNarrow'] as AnchorFn;
    this.anchorWide = instance.exports['anchorWide'] as AnchorFn;
    this.refresh();
    this.allocateHits(INITIAL_HITS);
    const lower = this.allocate(128);
    if (lower !== null) {
      this.bytes.set(ASCII_LOWER, lower);
      this.lower = lower;
    }
  }

  /** Reserves `length` bytes (8-aligned); null when the arena would pass its maximum. */
  private allocate(length: number): number | null {
    const at = (this.top + 7) & ~7;
    const end = at + length;
    if (end > this.maxBytes) return null;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        return null;
      }
      this.refresh();
    }
    this.top = end;
    return at;
  }

  /** Views are detached when the memory grows. */
  private refresh(): void {
    const buffer = this.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.units = new Uint16Array(buffer);
    this.native = nativeBytes === null ? null : nativeBytes(buffer);
  }

  /** Writes `text` as UTF-16 code units at byte `at`. */
  private writeUnits(text: string, at: number): void {
    if (this.native !== null) {
      this.native.write(text, at, 'utf16le');
      return;
    }
    const units = this.units;
    const base = at >> 1;
    for (let i = 0; i < text.length; i++) units[base + i] = text.charCodeAt(i);
  }

  /** Doubles the hits area (for a caller whose scans together found more hits than it holds). */
  growHits(): boolean {
    return this.allocateHits(Math.max(INITIAL_HITS, ((this.hitsEnd - (this.hitBase << 2)) >> 2) * 2));
  }

  private allocateHits(count: number): boolean {
    const at = this.allocate(count * 4);
    if (at === null) return false;
    this.hitBase = at >> 2;
    this.hitsEnd = at + count * 4;
    return true;
  }

  /**
   * Copies an automaton in, compacted (see the module comment). `delta` holds `LiteralAutomaton` rows
   * for every state (target × SCAN_COLUMNS × 2, plus 1 when the target has outputs); `classOfAscii` and
   * `classes` its alphabet classes (0: ASCII not in any literal, 1..16: past ASCII, then the others).
   * Null when the arena is full, the automaton has more than MAX_PLACED_STATES states, or its start
   * state has outputs.
   */
  place(
    delta: Int32Array,
    outStart: Int32Array,
    outIds: Int32Array,
    classOfAscii: Uint8Array,
    classes: number,
  ): PlacedTables | null {
    const states = outStart.length - 1;
    if (states > MAX_PLACED_STATES || outStart[1]! > outStart[0]!) return null;
    // Numbering: the states without outputs first (the start state stays 0), then those with outputs.
    const renumber = new Int32Array(states);
    let next = 0;
    for (let s = 0; s < states; s++) if (outStart[s + 1] === outStart[s]) renumber[s] = next++;
    const firstOutput = next;
    for (let s = 0; s < states; s++) if (outStart[s + 1] !== outStart[s]) renumber[s] = next++;
    // A column standing for each class: an ASCII code of the class, or the column of a class past ASCII.
    const column = new Int32Array(classes).fill(-1);
    for (let c = 127; c >= 0; c--) column[classOfAscii[c]!] = c;
    for (let j = 1; j <= 16; j++) column[j] = 127 + j;
    const tableAt = this.allocate(states * classes * 2);
    const mapAt = tableAt === null ? null : this.allocate(128);
    const outStartAt = mapAt === null ? null : this.allocate((states + 1) * 4);
    const outIdsAt = outStartAt === null ? null : this.allocate(outIds.length * 4);
    if (tableAt === null || mapAt === null || outStartAt === null || outIdsAt === null) return null;
    const units = this.units;
    const words = this.words;
    for (let s = 0; s < states; s++) {
      const row = (tableAt >> 1) + renumber[s]! * classes;
      for (let k = 0; k < classes; k++) {
        // class 0 has no column when every ASCII code is in some literal: it never occurs then
        const col = column[k]!;
        units[row + k] = col < 0 ? 0 : renumber[(delta[s * SCAN_COLUMNS + col]! >> 1) / SCAN_COLUMNS]!;
      }
    }
    this.bytes.set(classOfAscii, mapAt);
    let total = 0;
    const order = new Int32Array(states);
    for (let s = 0; s < states; s++) order[renumber[s]!] = s;
    for (let n = 0; n < states; n++) {
      const s = order[n]!;
      words[(outStartAt >> 2) + n] = total;
      for (let i = outStart[s]!; i < outStart[s + 1]!; i++) words[(outIdsAt >> 2) + total++] = outIds[i]!;
    }
    words[(outStartAt >> 2) + states] = total;
    return {
      arena: this,
      table: tableAt,
      classMap: mapAt,
      classes,
      firstOutput,
      outStart: outStartAt,
      outIds: outIdsAt,
      states,
      outputs: outIds.length,
    };
  }

  /**
   * The tables in `LiteralAutomaton`'s layout (in the arena's numbering of states), for an automaton
   * that must go back to scanning in JavaScript.
   */
  copyOut(tables: PlacedTables): {
    delta: Int32Array<ArrayBuffer>;
    outStart: Int32Array<ArrayBuffer>;
    outIds: Int32Array<ArrayBuffer>;
  } {
    const { states, classes, firstOutput } = tables;
    const units = this.units;
    const classOf = (col: number): number => (col < 128 ? this.bytes[tables.classMap + col]! : col - 127);
    const delta = new Int32Array(states * SCAN_COLUMNS);
    for (let s = 0; s < states; s++) {
      const row = (tables.table >> 1) + s * classes;
      for (let col = 0; col < SCAN_COLUMNS; col++) {
        const target = units[row + classOf(col)]!;
        delta[s * SCAN_COLUMNS + col] = target * SCAN_COLUMNS * 2 + (target >= firstOutput ? 1 : 0);
      }
    }
    const words = this.words;
    const outStart = Int32Array.from(
      words.subarray(tables.outStart >> 2, (tables.outStart >> 2) + states + 1),
    );
    const outIds = Int32Array.from(words.subarray(tables.outIds >> 2, (tables.outIds >> 2) + tables.outputs));
    return { delta, outStart, outIds };
  }

  /**
   * Writes `text` (the values of one event, joined) to the text area, for `scanLoaded`. False when the
   * arena cannot hold it.
   */
  load(text: string): boolean {
    const needed = text.length * 2;
    if (needed > this.textCapacity) {
      const at = this.allocate(needed * 2);
      if (at === null) return false;
      this.textAt = at;
      this.textCapacity = needed * 2;
    }
    this.writeUnits(text, this.textAt);
    return true;
  }

  /**
   * Scans characters [from, to) of the loaded text; the hits are `words[hitBase .. hitBase + count)`.
   * Returns the count; -1 when the range holds a character past ASCII (scan it with `scanText`); -2 when
   * the arena cannot hold the hits.
   */
  scanLoaded(tables: PlacedTables, from: number, to: number): number {
    return this.run(tables, this.textAt + from * 2, this.textAt + to * 2, false);
  }

  /** Scans one text of any characters on its own (its lower case when it is not ASCII); as `scanLoaded`. */
  scanText(tables: PlacedTables, text: string): number {
    return this.onItsOwn(text, (start, end, wide) => this.run(tables, start, end, wide));
  }

  /**
   * Writes `text` to the aside area and runs `scan` over it; when the scan gives up at a character past
   * ASCII (-1), runs it again, wide, over the lower case (whose length may differ). -2 when the aside
   * area cannot hold the text.
   */
  private onItsOwn(text: string, scan: (start: number, end: number, wide: boolean) => number): number {
    if (!this.aside(text.length)) return -2;
    this.writeUnits(text, this.asideAt);
    const count = scan(this.asideAt, this.asideAt + text.length * 2, false);
    if (count !== -1) return count;
    const lower = text.toLowerCase();
    if (!this.aside(lower.length)) return -2;
    this.writeUnits(lower, this.asideAt);
    return scan(this.asideAt, this.asideAt + lower.length * 2, true);
  }

  /** Makes the aside area hold `length` characters. */
  private aside(length: number): boolean {
    if (length * 2 <= this.asideCapacity) return true;
    const capacity = Math.max(length * 4, 4096);
    const at = this.allocate(capacity);
    if (at === null) return false;
    this.asideAt = at;
    this.asideCapacity = capacity;
    return true;
  }

  /**
   * Copies an anchor table in (see `LiteralScanner`): the bitmap (`bitWords` int32 words, hashed with
   * `bitShift`), the open-addressed keys (a power of two of them, hashed with `slotShift`), each slot's
   * first entry (`slotStart`, slots + 1), and per entry its literal (lower-cased UTF-16), the characters
   * before its anchor and its id. Null when the arena is full.
   */
  placeAnchors(
    bits: Int32Array,
    bitShift: number,
    keys: Int32Array,
    slotShift: number,
    slotStart: Int32Array,
    literals: readonly string[],
    offsets: Int32Array,
    ids: Int32Array,
  ): PlacedAnchors | null {
    if (this.lower < 0) return null;
    const textBytes = literals.reduce((sum, l) => sum + l.length * 2, 0);
    const bitsAt = this.allocate(bits.length * 4);
    const keysAt = bitsAt === null ? null : this.allocate(keys.length * 4);
    const startAt = keysAt === null ? null : this.allocate(slotStart.length * 4);
    const entriesAt = startAt === null ? null : this.allocate(literals.length * 16);
    const textAt = entriesAt === null ? null : this.allocate(textBytes);
    if (bitsAt === null || keysAt === null || startAt === null || entriesAt === null || textAt === null)
      return null;
    const words = this.words;
    words.set(bits, bitsAt >> 2);
    words.set(keys, keysAt >> 2);
    words.set(slotStart, startAt >> 2);
    let at = textAt;
    literals.forEach((literal, e) => {
      const entry = (entriesAt >> 2) + e * 4;
      words[entry] = at;
      words[entry + 1] = literal.length * 2;
      words[entry + 2] = offsets[e]! * 2;
      words[entry + 3] = ids[e]!;
      this.writeUnits(literal, at);
      at += literal.length * 2;
    });
    return {
      arena: this,
      bits: bitsAt,
      bitShift,
      keys: keysAt,
      slotShift,
      slotMask: keys.length - 1,
      slotStart: startAt,
      entries: entriesAt,
      entryCount: literals.length,
    };
  }

  /**
   * Scans characters [from, to) of the loaded text for anchored literals, writing hits from
   * `words[hitBase + skip]` on (after `skip` hits another scan wrote); as `scanLoaded`.
   */
  scanAnchorsLoaded(tables: PlacedAnchors, from: number, to: number, skip: number): number {
    return this.runAnchors(tables, this.textAt + from * 2, this.textAt + to * 2, false, skip);
  }

  /** Scans one text of any characters for anchored literals, on its own; as `scanText`. */
  scanAnchorsText(tables: PlacedAnchors, text: string): number {
    return this.onItsOwn(text, (start, end, wide) => this.runAnchors(tables, start, end, wide, 0));
  }

  private runAnchors(tables: PlacedAnchors, start: number, end: number, wide: boolean, skip: number): number {
    for (;;) {
      const at = (this.hitBase + skip) << 2;
      if (at > this.hitsEnd) return -2;
      const scan = wide ? this.anchorWide : this.anchorNarrow;
      const count = scan(
        tables.bits,
        tables.bitShift,
        tables.keys,
        tables.slotShift,
        tables.slotMask,
        tables.slotStart,
        tables.entries,
        this.lower,
        start,
        end,
        at,
        this.hitsEnd,
      );
      if (count !== -2) return count;
      // A larger hits area loses what the earlier scan wrote there: the caller scans again.
      if (skip > 0 || !this.growHits()) return -2;
    }
  }

  private run(tables: PlacedTables, start: number, end: number, wide: boolean): number {
    for (;;) {
      const at = this.hitBase << 2;
      const scan = wide ? this.scanWide : this.scanNarrow;
      const count = scan(
        tables.table,
        tables.classMap,
        tables.classes,
        tables.firstOutput,
        tables.outStart,
        tables.outIds,
        start,
        end,
        at,
        this.hitsEnd,
      );
      if (count !== -2) return count;
      // More hits than the area holds: a larger one, and the same scan again.
      if (!this.growHits()) return -2;
    }
  }
}
