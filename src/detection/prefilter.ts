/**
 * Aho-Corasick over lower-cased literals: one pass over a field value finds every literal it contains.
 * Used to pick, per event, the few rules whose required literals are present.
 */
export class LiteralAutomaton {
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Payload ids reported at each node (own and inherited through failure links). */
  private readonly out: number[][] = [[]];
  private built = false;

  /** Adds a literal with a payload id. Must be called before the first search. */
  add(literal: string, id: number): void {
    let node = 0;
    for (let i = 0; i < literal.length; i++) {
      const c = literal.charCodeAt(i);
      let child = this.next[node]!.get(c);
      if (child === undefined) {
        child = this.next.length;
        this.next.push(new Map());
        this.fail.push(0);
        this.out.push([]);
        this.next[node]!.set(c, child);
      }
      node = child;
    }
    this.out[node]!.push(id);
  }

  private build(): void {
    const queue: number[] = [];
    for (const child of this.next[0]!.values()) queue.push(child);
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const [c, child] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const target = this.next[f]!.get(c);
        this.fail[child] = target !== undefined && target !== child ? target : 0;
        const inherited = this.out[this.fail[child]!]!;
        if (inherited.length > 0) this.out[child] = [...this.out[child]!, ...inherited];
        queue.push(child);
      }
    }
    this.built = true;
  }

  /** Calls `hit` with the payload id of every literal found in `text` (ids may repeat). */
  search(text: string, hit: (id: number) => void): void {
    if (!this.built) this.build();
    const next = this.next;
    const fail = this.fail;
    const out = this.out;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let child = next[node]!.get(c);
      while (child === undefined && node !== 0) {
        node = fail[node]!;
        child = next[node]!.get(c);
      }
      node = child ?? 0;
      const ids = out[node]!;
      for (let k = 0; k < ids.length; k++) hit(ids[k]!);
    }
  }
}
