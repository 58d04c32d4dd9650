import { scalarText, type PreparedEvent } from './event.js';
import { LiteralScanner } from './literal-scanner.js';
import { hitBuffer, scannedLiteral } from './prefilter.js';
import { ScanArena } from './scan-arena.js';
import { KEYWORDS_FIELD, type Need, type Requirement } from './sigma-compiler.js';
import type { CompiledRule, RuleInfo, RuleSet, RuleVariant } from './rule-set.js';

/** One rule matching one event. */
export interface RuleMatch {
  readonly rule: RuleInfo;
  readonly event: PreparedEvent;
}

/**
 * The candidates for one dispatch key: the variants that always run, and per field an automaton over
 * the literals variants require. A variant's requirement is a few groups of alternatives; it runs only
 * when every group has a literal present (payload = variant index × 8 + group bit).
 */
interface Bucket {
  readonly always: readonly RuleVariant[];
  readonly fields: ReadonlyArray<{
    readonly field: string;
    readonly scanner: LiteralScanner;
    /** The payloads of literal id l are payloads[start[l] .. start[l + 1]) (flat: no array per literal). */
    readonly start: Int32Array;
    readonly payloads: Int32Array;
    /**
     * Per literal id, the stamp of the last event it was found in: a literal found again in the same
     * event (a backslash, `.exe`, a short flag: scans report every occurrence) is tallied once.
     */
    readonly tallied: Int32Array;
  }>;
  readonly guarded: readonly RuleVariant[];
  /** Per guarded variant, the bit mask of its requirement groups (all must be seen). */
  readonly full: Int32Array;
  /**
   * Fields whose automaton also holds the keyword literals: their string values need no keyword scan of
   * their own (see `PreparedEvent.keywordsExcept`). Null when keywords scan every value.
   */
  readonly keywordCovered: ReadonlySet<string> | null;
  /**
   * False when no keyword literal, as the automaton searches it, is made only of characters a number's
   * text can hold (digits, `.`, `e`, `+`, `-`): the keyword scan then skips numeric values, which cannot
   * contain one.
   */
  readonly keywordNumbers: boolean;
}

/** The text of a number (`String(n)` of a JSON number) holds only these characters. */
const NUMERIC_TEXT = /^[0-9.e+-]*$/;

/**
 * Keyword literals (field-less searches) are added to every field automaton of a bucket when there are at
 * most this many, so that the values of those fields are scanned once; more would grow every automaton.
 */
const MAX_MERGED_KEYWORDS = 64;

/** Stamps stay below 2^22, so that stamp << 9 (above the 9 bits of group marks) is a positive int32. */
const STAMP_LIMIT = 1 << 22;

/** The bucket key part of an absent product, channel or event id. */
const ABSENT = '\u0000';

/**
 * A variant's requirement in a bucket whose events all have the field values `known` (lower-cased; the
 * Windows EventID and Channel a bucket is keyed by): a group with a literal those values contain always
 * holds there and is left out; a literal they do not contain is never found there. Returns the
 * requirement still to be found by scanning (empty: none), or null when the variant can never be a
 * candidate in this bucket. The scan would find in these fields exactly the literals they contain.
 */
function openRequirement(
  need: NonNullable<Need>,
  known: ReadonlyMap<string, string>,
): Requirement[][] | null {
  const open: Requirement[][] = [];
  for (const group of need) {
    const rest: Requirement[] = [];
    let holds = false;
    for (const req of group) {
      const value = known.get(req.field);
      if (value === undefined) rest.push(req);
      else if (value.includes(scannedLiteral(req.literal))) holds = true;
    }
    if (holds) continue;
    if (rest.length === 0) return null;
    open.push(rest);
  }
  return open;
}

function buildBucket(
  variants: readonly RuleVariant[],
  usePrefilter: boolean,
  arena: ScanArena | null,
  known: ReadonlyMap<string, string>,
): Bucket {
  const always: RuleVariant[] = [];
  const guarded: RuleVariant[] = [];
  const full: number[] = [];
  const byField = new Map<
    string,
    { scanner: LiteralScanner; literals: Map<string, number>; ids: number[][] }
  >();
  for (const v of variants) {
    if (!usePrefilter || v.need === null) {
      always.push(v);
      continue;
    }
    if (v.need.some((group) => group.length === 0)) continue; // can never match
    const need = known.size === 0 ? v.need : openRequirement(v.need, known);
    if (need === null) continue; // never a candidate for this bucket's events
    if (need.length === 0) {
      always.push(v); // its requirement holds for every event of this bucket
      continue;
    }
    const index = guarded.length;
    guarded.push(v);
    full.push((1 << need.length) - 1);
    need.forEach((group, bit) => {
      for (const req of group) {
        let f = byField.get(req.field);
        if (f === undefined) {
          f = { scanner: new LiteralScanner(arena), literals: new Map(), ids: [] };
          byField.set(req.field, f);
        }
        let lit = f.literals.get(req.literal);
        if (lit === undefined) {
          lit = f.ids.length;
          f.literals.set(req.literal, lit);
          f.ids.push([]);
          f.scanner.add(req.literal, lit);
        }
        const payload = index * 8 + bit;
        const list = f.ids[lit]!;
        if (list[list.length - 1] !== payload) list.push(payload);
      }
    });
  }
  // A keyword matches within one value; the values of the scanned fields are scanned for the keyword
  // literals too, so the keyword scan skips them.
  let keywordCovered: Set<string> | null = null;
  const keywords = byField.get(KEYWORDS_FIELD);
  if (keywords !== undefined && keywords.literals.size <= MAX_MERGED_KEYWORDS) {
    keywordCovered = new Set();
    for (const [field, f] of byField) {
      if (field === KEYWORDS_FIELD || field === 'EventID' || field === 'Channel') continue;
      for (const [literal, kwLit] of keywords.literals) {
        let lit = f.literals.get(literal);
        if (lit === undefined) {
          lit = f.ids.length;
          f.literals.set(literal, lit);
          f.ids.push([]);
          f.scanner.add(literal, lit);
        }
        f.ids[lit]!.push(...keywords.ids[kwLit]!);
      }
      keywordCovered.add(field);
    }
  }
  let keywordNumbers = false;
  if (keywords !== undefined)
    for (const literal of keywords.literals.keys())
      if (NUMERIC_TEXT.test(scannedLiteral(literal))) keywordNumbers = true;
  return {
    always,
    guarded,
    keywordCovered,
    keywordNumbers,
    full: Int32Array.from(full),
    fields: [...byField.entries()].map(([field, f]) => ({
      field,
      scanner: f.scanner,
      ...flatten(f.ids),
      tallied: new Int32Array(f.ids.length),
    })),
  };
}

/** Lists of payloads as one array and the start of each list. */
function flatten(lists: readonly number[][]): { start: Int32Array; payloads: Int32Array } {
  const start = new Int32Array(lists.length + 1);
  let total = 0;
  for (let i = 0; i < lists.length; i++) {
    start[i] = total;
    total += lists[i]!.length;
  }
  start[lists.length] = total;
  const payloads = new Int32Array(total);
  for (let i = 0; i < lists.length; i++) payloads.set(lists[i]!, start[i]!);
  return { start, payloads };
}

export interface EngineOptions {
  /** Literal prefilter (default on); off evaluates every dispatched rule, for tests and comparisons. */
  readonly prefilter?: boolean;
  /**
   * Where the prefilter scans: 'wasm' (default; falls back to JavaScript where WebAssembly is missing)
   * or 'js' (for tests and comparisons).
   */
  readonly scan?: 'wasm' | 'js';
}

function newArena(options: EngineOptions): ScanArena | null {
  if (options.prefilter === false || options.scan === 'js' || typeof WebAssembly !== 'object') return null;
  try {
    return new ScanArena();
  } catch {
    // No WebAssembly memory to be had (a process limited in address space, say): scan in JavaScript.
    return null;
  }
}

/**
 * Runs compiled Sigma rules over events: dispatches each event to the variants of its log source
 * (Windows channel and event id, or product), prefilters on required literals, then evaluates.
 * Pure apart from its caches; not for concurrent use.
 */
export class SigmaMatcher {
  private readonly byKey = new Map<string, RuleVariant[]>();
  /** Buckets by product, channel and event id ('\u0000' for absent), built on first need. */
  private readonly buckets = new Map<string, Map<string, Map<string, Bucket>>>();
  private bucketCount = 0;
  private readonly usePrefilter: boolean;
  private stamp = 0;
  /**
   * Per guarded variant, for the current event: stamp << 9 | 0x100 when reported | the bit of each
   * requirement group seen. An entry with another stamp is from an earlier event (nothing seen yet).
   */
  private seen: Int32Array = new Int32Array(0);
  /** Literal ids found in the current field (reused for every field of every event). */
  private readonly hits = hitBuffer();
  /** Guarded variants whose requirements all hold, for the current event. */
  private candidates: Int32Array = new Int32Array(0);
  /** The values to scan for the current event, and the index of the bucket field each belongs to. */
  private readonly texts: string[] = [];
  private readonly owners: number[] = [];
  /** Holds the automata of the current buckets, scanned in WebAssembly (null: scans in JavaScript). */
  private arena: ScanArena | null;

  constructor(
    readonly rules: readonly CompiledRule[],
    private readonly options: EngineOptions = {},
  ) {
    this.usePrefilter = options.prefilter ?? true;
    this.arena = newArena(options);
    for (const rule of rules) {
      for (const v of rule.variants) {
        const d = v.dispatch;
        if (d.channels === null && d.eventIds === null) {
          this.add(`product:${d.product ?? '*'}`, v);
          continue;
        }
        for (const ch of d.channels ?? ['*'])
          for (const id of d.eventIds ?? ['*']) this.add(`${ch}|${id}`, v);
      }
    }
  }

  private add(key: string, v: RuleVariant): void {
    let list = this.byKey.get(key);
    if (list === undefined) {
      list = [];
      this.byKey.set(key, list);
    }
    list.push(v);
  }

  private bucketFor(event: PreparedEvent): Bucket {
    // Nested maps: no key string to build, flatten and hash per event.
    const product = event.product ?? ABSENT;
    const channel = event.channel ?? ABSENT;
    const eventId = event.eventId ?? ABSENT;
    let bucket = this.buckets.get(product)?.get(channel)?.get(eventId);
    if (bucket !== undefined) return bucket;
    const variants: RuleVariant[] = [];
    const take = (k: string): void => {
      const list = this.byKey.get(k);
      if (list !== undefined) variants.push(...list);
    };
    if (event.channel !== undefined || event.eventId !== undefined) {
      const ch = event.channel ?? '*';
      const id = event.eventId ?? '*';
      take(`${ch}|${id}`);
      if (id !== '*') take(`${ch}|*`);
      if (ch !== '*') take(`*|${id}`);
    }
    if (event.product !== undefined) {
      // A recognised product (Windows) meets its own rules only: rules naming no product and no mapped
      // log source (web servers, proxies, databases, ...) describe other kinds of logs.
      take(`product:${event.product}`);
    } else {
      // Events of unknown product: every rule not tied to an indexed log source.
      for (const k of this.byKey.keys()) if (k.startsWith('product:')) take(k);
    }
    if (this.bucketCount >= 10_000) {
      // The arena holds the automata of the dropped buckets: a fresh one for the new ones.
      this.buckets.clear();
      this.bucketCount = 0;
      this.arena = newArena(this.options);
    }
    // A Windows event's EventID and Channel key its bucket: requirements on them are decided once here.
    const known = new Map<string, string>();
    if (event.eventId !== undefined) known.set('EventID', event.eventId.toLowerCase());
    if (event.channel !== undefined) known.set('Channel', event.channel);
    bucket = buildBucket(variants, this.usePrefilter, this.arena, known);
    if (this.seen.length < bucket.guarded.length) {
      this.seen = new Int32Array(bucket.guarded.length * 2);
      this.candidates = new Int32Array(bucket.guarded.length * 2);
      // The stamp goes on: the buckets' literal marks hold stamps of earlier events.
    }
    let byChannel = this.buckets.get(product);
    if (byChannel === undefined) this.buckets.set(product, (byChannel = new Map()));
    let byId = byChannel.get(channel);
    if (byId === undefined) byChannel.set(channel, (byId = new Map()));
    byId.set(eventId, bucket);
    this.bucketCount++;
    return bucket;
  }

  /**
   * Marks the requirement groups the literals `ids[from .. from + count)` of field `f` satisfy, and
   * appends each variant whose groups are now all seen to the candidates. Returns the candidate count.
   */
  private tally(
    f: Bucket['fields'][number],
    ids: Int32Array,
    from: number,
    count: number,
    tag: number,
    bucket: Bucket,
    candidateCount: number,
  ): number {
    const seen = this.seen;
    const full = bucket.full;
    const candidates = this.candidates;
    const start = f.start;
    const payloads = f.payloads;
    const tallied = f.tallied;
    const stamp = tag >> 9;
    for (let h = from, end = from + count; h < end; h++) {
      const literal = ids[h]!;
      if (tallied[literal] === stamp) continue;
      tallied[literal] = stamp;
      for (let k = start[literal]!, last = start[literal + 1]!; k < last; k++) {
        const payload = payloads[k]!;
        const index = payload >> 3;
        const before = seen[index]!;
        const mask = ((before & -512) === tag ? before : tag) | (1 << (payload & 7));
        seen[index] = mask;
        if (mask === (tag | full[index]!)) {
          seen[index] = mask | 0x100; // reported: no longer equal to full
          candidates[candidateCount++] = index;
        }
      }
    }
    return candidateCount;
  }

  /** The rules matching one event, at most one match per rule. */
  match(event: PreparedEvent): CompiledRule[] {
    const bucket = this.bucketFor(event);
    const out: CompiledRule[] = [];
    let last: CompiledRule | undefined;
    for (const v of bucket.always) {
      if (v.rule !== last && v.test(event) && !out.includes(v.rule)) {
        out.push(v.rule);
        last = v.rule;
      }
    }
    if (bucket.guarded.length === 0) return out;
    let stamp = ++this.stamp;
    if (stamp >= STAMP_LIMIT) {
      this.seen.fill(0);
      for (const byChannel of this.buckets.values())
        for (const byId of byChannel.values())
          for (const b of byId.values()) for (const f of b.fields) f.tallied.fill(0);
      stamp = this.stamp = 1;
    }
    const tag = stamp << 9;
    const hits = this.hits;
    let candidateCount = 0;
    // The values to scan: one text per field value (each item of an array), each keyword value.
    const fields = bucket.fields;
    const texts = this.texts;
    const owners = this.owners;
    texts.length = 0;
    owners.length = 0;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.field === KEYWORDS_FIELD) {
        // each value on its own: a keyword matches within one value
        const covered = bucket.keywordCovered;
        const before = texts.length;
        if (covered === null) texts.push(...event.keywords());
        else event.keywordsExcept(covered, texts, bucket.keywordNumbers);
        for (let j = before; j < texts.length; j++) owners.push(i);
      } else {
        const value = event.get(f.field);
        if (typeof value === 'string') {
          texts.push(value);
          owners.push(i);
        } else if (Array.isArray(value)) {
          for (const item of value)
            if (typeof item === 'string' || typeof item === 'number') {
              texts.push(String(item));
              owners.push(i);
            }
        } else {
          const text = scalarText(value);
          if (text !== null) {
            texts.push(text);
            owners.push(i);
          }
        }
      }
    }
    // All of them cross into the arena at once.
    const arena = this.arena;
    const loaded =
      arena !== null && texts.length > 0 && arena.load(texts.length === 1 ? texts[0]! : texts.join(''));
    // The texts of one field that follow each other (the keyword values, an array's items) are
    // scanned as one range of the loaded text: a literal found across two of them only lets one
    // candidate too many through. Otherwise (nothing loaded, an automaton in JavaScript, a character
    // past ASCII, no arena room) each text is scanned on its own.
    let offset = 0;
    for (let i = 0; i < texts.length;) {
      const owner = owners[i]!;
      const f = fields[owner]!;
      const from = offset;
      let next = i;
      while (next < texts.length && owners[next] === owner) offset += texts[next++]!.length;
      const count = loaded ? f.scanner.scanLoaded(arena!, from, offset) : -1;
      if (count >= 0) {
        candidateCount = this.tally(f, arena!.words, arena!.hitBase, count, tag, bucket, candidateCount);
      } else {
        for (let j = i; j < next; j++) {
          hits.count = 0;
          f.scanner.scan(texts[j]!, hits);
          candidateCount = this.tally(f, hits.ids, 0, hits.count, tag, bucket, candidateCount);
        }
      }
      i = next;
    }
    const candidates = this.candidates;
    for (let c = 0; c < candidateCount; c++) {
      const v = bucket.guarded[candidates[c]!]!;
      if (!out.includes(v.rule) && v.test(event)) out.push(v.rule);
    }
    return out;
  }
}

export type { RuleSet };
