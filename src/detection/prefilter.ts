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

export class LiteralAutomaton {
  private trie: Array<Map<number, number>> | null = [new Map()];
  private trieOut: number[][] = [[]];
  private classOfAscii = new Uint8Array(128);
  private classes = 1 + OTHER_CLASSES;
  private delta: Int32Array | Uint16Array = new Int32Array(0);
  /** Outputs of node n are outIds[outStart[n] .. outStart[n + 1]). */
  private outStart = new Int32Array(0);
  private outIds = new Int32Array(0);

  /** Adds a literal with a payload id. Must be called before the first search. */
  add(full: string, id: number): void {
    const literal = full.length > MAX_LITERAL ? full.slice(full.length - MAX_LITERAL) : full;
    const trie = this.trie;
    if (trie === null) throw new Error('LiteralAutomaton: add after build');
    let node = 0;
    for (let i = 0; i < literal.length; i++) {
      const c = literal.charCodeAt(i);
      this.classify(c);
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
    const delta = n < 65536 ? new Uint16Array(n * k) : new Int32Array(n * k);
    const fail = new Int32Array(n);
    const outs: number[][] = this.trieOut;
    // Breadth-first: a node's transitions are its trie edges, else its failure node's transitions.
    const queue: number[] = [];
    for (const [c, child] of trie[0]!) {
      delta[this.classOf(c)] = child;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      const f = fail[node]!;
      if (outs[f]!.length > 0) outs[node] = [...outs[node]!, ...outs[f]!];
      // Inherit every transition from the failure node, then override with own edges.
      delta.copyWithin(node * k, f * k, f * k + k);
      for (const [c, child] of trie[node]!) {
        const cls = this.classOf(c);
        fail[child] = delta[f * k + cls]!;
        delta[node * k + cls] = child;
        queue.push(child);
      }
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
    this.delta = delta;
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
    const ascii = this.classOfAscii;
    const outStart = this.outStart;
    const outIds = this.outIds;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const cls = c < 128 ? ascii[c]! : 1 + (c % OTHER_CLASSES);
      node = delta[node * k + cls]!;
      const from = outStart[node]!;
      const to = outStart[node + 1]!;
      for (let j = from; j < to; j++) found.push(outIds[j]!);
    }
  }
}
