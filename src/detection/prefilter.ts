/**
 * Aho-Corasick over lower-cased literals, compiled to a DFA: one pass over a field value, one table
 * lookup per character, finds every literal it contains. Used to pick, per event, the few rules whose
 * required literals are present. The alphabet is compressed to the ASCII characters the literals use
 * (every other ASCII character is class 0) plus 16 shared classes for non-ASCII characters, and literals
 * are cut to their last MAX_LITERAL characters: both only widen what matches (a prefilter may let
 * through too much, never too little) and keep the table small.
 */
const MAX_LITERAL = 12;
const OTHER_CLASSES = 16;
/** Trie depth below which states get full DFA rows (small enough to stay in cache). */
const DENSE_DEPTH = 2;

export class LiteralAutomaton {
  private trie: Array<Map<number, number>> | null = [new Map()];
  private trieOut: number[][] = [[]];
  private classOfAscii = new Uint8Array(128);
  private classes = 1 + OTHER_CLASSES;
  private delta: Int32Array | Uint16Array = new Int32Array(0);
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
  add(full: string, id: number): void {
    const literal = full.length > MAX_LITERAL ? full.slice(full.length - MAX_LITERAL) : full;
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
    if (c < 128 && this.classOfAscii[c] === 0) this.classOfAscii[c] = this.classes++;
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
    const depth: number[] = new Array<number>(n).fill(0);
    for (let head = 0; head < order.length; head++) {
      const node = order[head]!;
      for (const child of trie[node]!.values()) {
        depth[child] = depth[node]! + 1;
        order.push(child);
      }
    }
    const id = new Int32Array(n);
    order.forEach((node, i) => (id[node] = i));
    let dense = 0;
    while (dense < n && depth[order[dense]!]! < DENSE_DEPTH) dense++;
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
    // Full DFA rows for the shallow states; deeper states keep sparse edges and their failure link.
    const table = dense * k < 1 << 30 && n < 65536 ? new Uint16Array(dense * k) : new Int32Array(dense * k);
    for (let i = 0; i < dense; i++) for (let c = 0; c < k; c++) table[i * k + c] = goto(i, c);
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
        edgeTarget[edgeStart[i]! + j] = t;
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
  }

  /** Number of states (for memory reporting). */
  get states(): number {
    return this.trie === null ? this.outStart.length - 1 : this.trie.length;
  }

  /** Appends to `found` the payload id of every literal present in `text` (ids may repeat). */
  search(text: string, found: number[]): void {
    if (this.trie !== null) this.build();
    const delta = this.delta;
    const k = this.classes;
    const dense = this.dense;
    const ascii = this.classOfAscii;
    const outStart = this.outStart;
    const outIds = this.outIds;
    const fail = this.fail;
    const edgeStart = this.edgeStart;
    const edgeClass = this.edgeClass;
    const edgeTarget = this.edgeTarget;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const cls = c < 128 ? ascii[c]! : 1 + (c % OTHER_CLASSES);
      let next = -1;
      while (next < 0) {
        if (node < dense) {
          next = delta[node * k + cls]!;
          break;
        }
        for (let e = edgeStart[node]!, end = edgeStart[node + 1]!; e < end; e++) {
          if (edgeClass[e] === cls) {
            next = edgeTarget[e]!;
            break;
          }
        }
        if (next < 0) node = fail[node]!;
      }
      node = next;
      const from = outStart[node]!;
      const to = outStart[node + 1]!;
      for (let j = from; j < to; j++) found.push(outIds[j]!);
    }
  }
}
