/**
 * Aho-Corasick over lower-cased literals, compiled to a DFA: one pass over a field value, one table
 * lookup per character, finds every literal it contains. `LiteralScanner` keeps the prefilter's literals
 * under four characters in one (the others are found through anchors). The alphabet is compressed to
 * the ASCII characters the literals use (every other ASCII character is class 0) plus 16 shared classes
 * for non-ASCII characters, and literals
 * are cut to their last MAX_LITERAL characters: both only widen what matches (a prefilter may let
 * through too much, never too little) and keep the table small.
 *
 * Upper-case ASCII letters share the class of their lower-case letter, so a value is scanned as it is,
 * without lower-casing it first: for ASCII text this finds exactly what a scan of the lower-cased text
 * finds. The first non-ASCII character (whose lower case may differ in length or fall into ASCII, like
 * the Kelvin sign) makes the scan start over on `text.toLowerCase()`.
 *
 * Classes shape the trie and the sparse rows; the full table rows are indexed by character instead (one
 * column per ASCII code, then one per non-ASCII class), so the scan loop reads one table per character,
 * not a class table and then the transition table.
 */
import { MAX_PLACED_STATES, SCAN_COLUMNS, type PlacedTables, type ScanArena } from './scan-arena.js';

const MAX_LITERAL = 12;
const OTHER_CLASSES = 16;
/** Columns of a full table row: the 128 ASCII codes, then the non-ASCII classes 1..OTHER_CLASSES. */
const COLUMNS = 128 + OTHER_CLASSES;
if (COLUMNS !== SCAN_COLUMNS) throw new Error('prefilter: the scan arena assumes another row width');
/**
 * Table entries (states × columns) an automaton may spend on full DFA rows: the shallowest states get
 * them (breadth-first numbering), deeper ones keep sparse edges and a failure link. 6M entries of 32 bits
 * (24 MB) hold the largest SigmaHQ automaton (CommandLine of process creation, ~35,000 states × 144
 * columns, 20 MB) whole.
 */
const DENSE_BUDGET = 6 << 20;

/** Where `scan` appends payload ids: `ids[0 .. count)`, grown as needed. */
export interface HitBuffer {
  ids: Int32Array;
  count: number;
}

/** An empty hit buffer to pass to `LiteralAutomaton.scan`. */
export function hitBuffer(): HitBuffer {
  return { ids: new Int32Array(256), count: 0 };
}

/** Appends `count` ids from `source[from ...]` to `hits`. */
export function appendHits(hits: HitBuffer, source: Int32Array, from: number, count: number): void {
  while (hits.count + count > hits.ids.length) grow(hits);
  const ids = hits.ids;
  let at = hits.count;
  for (let i = from, end = from + count; i < end; i++) ids[at++] = source[i]!;
  hits.count = at;
}

function grow(hits: HitBuffer): Int32Array {
  const bigger = new Int32Array(hits.ids.length * 2);
  bigger.set(hits.ids);
  hits.ids = bigger;
  return bigger;
}

/** What the automaton searches for a literal: its lower case, cut to the last MAX_LITERAL characters. */
export function scannedLiteral(text: string): string {
  const full = text.toLowerCase();
  return full.length > MAX_LITERAL ? full.slice(full.length - MAX_LITERAL) : full;
}

export class LiteralAutomaton {
  /**
   * @param denseBudget table entries for full rows (default DENSE_BUDGET; small values test the sparse path)
   * @param arena where an automaton whose rows are all full scans (in WebAssembly); without it, or when
   *   the automaton has sparse states or the arena is full, it scans in JavaScript
   */
  constructor(
    private readonly denseBudget: number = DENSE_BUDGET,
    private readonly arena: ScanArena | null = null,
  ) {}

  /** Set when the tables live in the arena (the JavaScript copies are then dropped). */
  private placed: PlacedTables | null = null;

  private trie: Array<Map<number, number>> | null = [new Map()];
  private trieOut: number[][] = [[]];
  private classOfAscii = new Uint8Array(128);
  private classes = 1 + OTHER_CLASSES;
  private delta = new Int32Array(0);
  /** Outputs of node n are outIds[outStart[n] .. outStart[n + 1]). */
  private outStart = new Int32Array(0);
  private outIds = new Int32Array(0);
  /** States below this number have full table rows; the others sparse edges plus a failure link. */
  private dense = 0;
  private fail = new Int32Array(0);
  private edgeStart = new Int32Array(0);
  private edgeClass = new Int32Array(0);
  private edgeTarget = new Int32Array(0);

  /** Adds a literal with a payload id. Must be called before the first search. */
  add(text: string, id: number): void {
    const literal = scannedLiteral(text);
    const trie = this.trie;
    if (trie === null) throw new Error('LiteralAutomaton: add after build');
    let node = 0;
    for (let i = 0; i < literal.length; i++) {
      const code = literal.charCodeAt(i);
      this.classify(code);
      // Edges are keyed by class: characters sharing a class share the path (a superset, never less).
      const c = this.classOf(code);
      let child = trie[node]!.get(c);
      if (child === undefined) {
        child = trie.length;
        trie.push(new Map());
        this.trieOut.push([]);
        trie[node]!.set(c, child);
      }
      node = child;
    }
    this.trieOut[node]!.push(id);
  }

  private classify(c: number): void {
    if (c < 128 && this.classOfAscii[c] === 0) {
      this.classOfAscii[c] = this.classes++;
      // upper-case letters scan as their lower case (see the class comment)
      if (c >= 97 && c <= 122) this.classOfAscii[c - 32] = this.classOfAscii[c]!;
    }
  }

  private classOf(c: number): number {
    return c < 128 ? this.classOfAscii[c]! : 1 + (c % OTHER_CLASSES);
  }

  private build(): void {
    const trie = this.trie!;
    const n = trie.length;
    const k = this.classes;
    // Number states breadth-first, so that the shallow states (where scanning spends its time) come first.
    const order: number[] = [0];
    for (let head = 0; head < order.length; head++) {
      const node = order[head]!;
      for (const child of trie[node]!.values()) {
        order.push(child);
      }
    }
    const id = new Int32Array(n);
    order.forEach((node, i) => (id[node] = i));
    const dense = Math.max(1, Math.min(n, Math.floor(this.denseBudget / COLUMNS)));
    // Failure links and outputs (in the new numbering).
    const fail = new Int32Array(n);
    const outs: number[][] = new Array<number[]>(n);
    const edges: Array<Array<[number, number]>> = new Array<Array<[number, number]>>(n);
    for (let i = 0; i < n; i++) {
      const node = order[i]!;
      outs[i] = [...this.trieOut[node]!];
      edges[i] = [...trie[node]!.entries()]
        .map(([c, child]): [number, number] => [c, id[child]!])
        .sort((x, y) => x[0] - y[0]);
    }
    const goto = (state: number, cls: number): number => {
      for (;;) {
        for (const [c, target] of edges[state]!) if (c === cls) return target;
        if (state === 0) return 0;
        state = fail[state]!;
      }
    };
    for (let i = 1; i < n; i++) {
      // parents come before children in breadth-first order, so their failure links are known
      for (const [c, child] of edges[i]!) {
        fail[child] = goto(fail[i]!, c);
      }
    }
    for (const [, child] of edges[0]!) fail[child] = 0;
    for (let i = 1; i < n; i++) {
      const f = outs[fail[i]!]!;
      if (f.length > 0) outs[i] = [...outs[i]!, ...f];
    }
    // A transition holds the offset of the target's row (state × columns) × 2, plus 1 when the target
    // has outputs: the scan then spends no multiplication and no output lookup per character. Full DFA
    // rows for the shallow states; deeper states keep sparse edges and their failure link.
    if (n * COLUMNS * 2 >= 2 ** 31) throw new Error('LiteralAutomaton: too many states');
    const encode = (state: number): number => state * COLUMNS * 2 + (outs[state]!.length > 0 ? 1 : 0);
    // The columns of each class: its ASCII codes, or the one column of a non-ASCII class.
    const columnsOf: number[][] = Array.from({ length: k }, () => []);
    for (let c = 0; c < 128; c++) columnsOf[this.classOfAscii[c]!]!.push(c);
    for (let j = 1; j <= OTHER_CLASSES; j++) columnsOf[j]!.push(127 + j);
    const table = new Int32Array(dense * COLUMNS);
    for (let i = 0; i < dense; i++) {
      // a state's row is its failure state's row (numbered before it) with its own edges on top
      const base = i * COLUMNS;
      if (i > 0) {
        const f = fail[i]!;
        table.copyWithin(base, f * COLUMNS, f * COLUMNS + COLUMNS); // f < i: breadth-first, shallower
      }
      for (const [c, target] of edges[i]!) {
        const to = encode(target);
        for (const column of columnsOf[c]!) table[base + column] = to;
      }
    }
    const edgeStart = new Int32Array(n + 1);
    let totalEdges = 0;
    for (let i = 0; i < n; i++) {
      edgeStart[i] = totalEdges;
      totalEdges += edges[i]!.length;
    }
    edgeStart[n] = totalEdges;
    const edgeClass = new Int32Array(totalEdges);
    const edgeTarget = new Int32Array(totalEdges);
    for (let i = 0; i < n; i++) {
      edges[i]!.forEach(([c, t], j) => {
        edgeClass[edgeStart[i]! + j] = c;
        edgeTarget[edgeStart[i]! + j] = encode(t);
      });
    }
    const outStart = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      outStart[i] = total;
      total += outs[i]!.length;
    }
    outStart[n] = total;
    const outIds = new Int32Array(total);
    for (let i = 0; i < n; i++) outIds.set(outs[i]!, outStart[i]!);
    this.delta = table;
    this.dense = dense;
    this.fail = fail;
    this.edgeStart = edgeStart;
    this.edgeClass = edgeClass;
    this.edgeTarget = edgeTarget;
    this.outStart = outStart;
    this.outIds = outIds;
    this.trie = null;
    this.trieOut = [];
    if (this.arena !== null && dense === n && n <= MAX_PLACED_STATES) {
      this.placed = this.arena.place(table, outStart, outIds, this.classOfAscii, this.classes);
      if (this.placed !== null) {
        this.delta = new Int32Array(0);
        this.outStart = new Int32Array(0);
        this.outIds = new Int32Array(0);
      }
    }
  }

  /**
   * The automaton's tables in the arena, or null when it scans in JavaScript. With tables, callers may
   * scan text they loaded into the arena themselves (`ScanArena.load`, `scanLoaded`).
   */
  tables(): PlacedTables | null {
    if (this.trie !== null) this.build();
    return this.placed;
  }

  /** Back to scanning in JavaScript (the arena could not take the hits of a scan). */
  private unplace(): void {
    const placed = this.placed!;
    const { delta, outStart, outIds } = placed.arena.copyOut(placed);
    this.delta = delta;
    this.outStart = outStart;
    this.outIds = outIds;
    this.placed = null;
  }

  /** Number of states (for memory reporting). */
  get states(): number {
    if (this.placed !== null) return this.placed.states;
    return this.trie === null ? this.outStart.length - 1 : this.trie.length;
  }

  /** Appends to `found` the payload id of every literal present in `text` (ids may repeat). */
  search(text: string, found: number[]): void {
    const hits: HitBuffer = { ids: new Int32Array(16), count: 0 };
    this.scan(text, hits);
    for (let i = 0; i < hits.count; i++) found.push(hits.ids[i]!);
  }

  /**
   * Appends to `hits` the payload id of every literal present in `text` lower-cased (ids may repeat),
   * scanning `text` as it is while it is ASCII.
   */
  scan(text: string, hits: HitBuffer): void {
    if (this.trie !== null) this.build();
    const placed = this.placed;
    if (placed !== null) {
      const arena = placed.arena;
      const count = arena.scanText(placed, text);
      if (count >= 0) {
        appendHits(hits, arena.words, arena.hitBase, count);
        return;
      }
      this.unplace();
    }
    const start = hits.count;
    if (!this.run(text, hits, true)) {
      hits.count = start;
      this.run(text.toLowerCase(), hits, false);
    }
  }

  /** One pass; with `asciiOnly`, gives up (returns false) at the first non-ASCII character. */
  private run(text: string, hits: HitBuffer, asciiOnly: boolean): boolean {
    const delta = this.delta;
    const denseEnd = this.dense * COLUMNS;
    const outStart = this.outStart;
    const outIds = this.outIds;
    let ids = hits.ids;
    let count = hits.count;
    let row = 0; // the current state's number × columns
    for (let i = 0, length = text.length; i < length; i++) {
      let column = text.charCodeAt(i);
      if (column >= 128) {
        if (asciiOnly) {
          hits.count = count;
          return false;
        }
        column = 128 + (column % OTHER_CLASSES);
      }
      const next = row < denseEnd ? delta[row + column]! : this.sparseStep(row / COLUMNS, column);
      row = next >> 1;
      if ((next & 1) !== 0) {
        const state = row / COLUMNS;
        const from = outStart[state]!;
        const to = outStart[state + 1]!;
        if (count + (to - from) > ids.length) {
          hits.count = count;
          ids = grow(hits);
        }
        for (let j = from; j < to; j++) ids[count++] = outIds[j]!;
      }
    }
    hits.count = count;
    return true;
  }

  /**
   * The transition (encoded as in the table) of a state without a full table row: its sparse edges,
   * else its failure link's.
   */
  private sparseStep(state: number, column: number): number {
    const cls = column < 128 ? this.classOfAscii[column]! : column - 127;
    const dense = this.dense;
    const edgeStart = this.edgeStart;
    const edgeClass = this.edgeClass;
    const edgeTarget = this.edgeTarget;
    let node = state;
    while (node >= dense) {
      for (let e = edgeStart[node]!, end = edgeStart[node + 1]!; e < end; e++)
        if (edgeClass[e] === cls) return edgeTarget[e]!;
      node = this.fail[node]!;
    }
    return this.delta[node * COLUMNS + column]!;
  }
}
