import ipaddr from 'ipaddr.js';
import { identifierMatches, type ConditionNode } from './condition.js';
import { invalid, unsupported } from './errors.js';
import { scalarText, parseTimestamp, type PreparedEvent } from './event.js';
import {
  compilePattern,
  literalPattern,
  bestLiteral,
  literalQuality,
  lowerPattern,
  normalise,
  parseSigmaString,
  type Pattern,
  type Piece,
  type StringTest,
} from './pattern.js';
import { compileRegex, regexRequiredLiteral } from './regex.js';

/** The pseudo-field of prefilter requirements on keyword searches (all values of the event). */
export const KEYWORDS_FIELD = '\u0000keywords';

/** A compiled test over one event. */
export type Predicate = (event: PreparedEvent) => boolean;

/**
 * A literal that any match must contain: the lower-cased value of `field` contains `literal`.
 * A rule's requirement is a list of alternatives (at least one holds whenever the rule matches).
 */
export interface Requirement {
  readonly field: string;
  readonly literal: string;
}

export interface Compiled {
  readonly test: Predicate;
  /**
   * What every match satisfies, in conjunctive form: each group is a list of alternatives, at least one
   * of which holds. Null when nothing useful is known; a group with no alternative never holds.
   */
  readonly need: Need;
}

export interface CompileOptions {
  /** Sigma field name -> event field name (the log source's renames). */
  readonly fieldMap?: Readonly<Record<string, string>>;
  /** Values for `expand` placeholders, by name without the percent signs. */
  readonly placeholders?: Readonly<Record<string, readonly string[]>>;
}

const MATCH_MODIFIERS = new Set(['contains', 'startswith', 'endswith']);
const ENCODINGS = new Set(['base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide']);
const NUMERIC = new Set(['lt', 'lte', 'gt', 'gte']);
const DATE_PARTS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
const OTHER = new Set([
  'all',
  're',
  'i',
  'm',
  's',
  'cidr',
  'neq',
  'exists',
  'fieldref',
  'expand',
  'cased',
  'windash',
]);

/** Every modifier this engine runs (Sigma specification v2.1 appendix). */
export const SUPPORTED_MODIFIERS: readonly string[] = [
  ...MATCH_MODIFIERS,
  ...ENCODINGS,
  ...NUMERIC,
  ...DATE_PARTS,
  ...OTHER,
];

const TRUE: Compiled = { test: () => true, need: null };
const FALSE: Compiled = { test: () => false, need: [[]] };

function and(children: Compiled[]): Compiled {
  if (children.length === 1) return children[0]!;
  const tests = children.map((c) => c.test);
  // Every child's groups hold for a match; keep the most selective few.
  const groups: Array<readonly Requirement[]> = [];
  for (const c of children) if (c.need !== null) groups.push(...c.need);
  groups.sort((a, b) => score(b) - score(a));
  const need: Need = groups.length === 0 ? null : groups.slice(0, MAX_GROUPS);
  const test: Predicate =
    tests.length === 2
      ? (
          (a, b) => (ev: PreparedEvent) =>
            a(ev) && b(ev)
        )(tests[0]!, tests[1]!)
      : (ev) => {
          for (const t of tests) if (!t(ev)) return false;
          return true;
        };
  return { test, need };
}

function or(children: Compiled[]): Compiled {
  if (children.length === 1) return children[0]!;
  const tests = children.map((c) => c.test);
  // A match satisfies one child: (A1 and A2) or (B1 and B2) holds only where every Ai or Bj does. The
  // groups distribute child by child, keeping the most selective few of each product: a candidate then
  // needs a literal from each side of every alternative, not only one child's best group.
  let groups: NonNullable<Need> | null = null;
  for (const c of children) {
    if (c.need === null) {
      groups = null;
      break;
    }
    groups = groups === null ? c.need : distribute(groups, c.need);
  }
  const test: Predicate =
    tests.length === 2
      ? (
          (a, b) => (ev: PreparedEvent) =>
            a(ev) || b(ev)
        )(tests[0]!, tests[1]!)
      : (ev) => {
          for (const t of tests) if (t(ev)) return true;
          return false;
        };
  return { test, need: groups };
}

/** The groups of `a or b` (each a group of `a` joined with one of `b`), the MAX_GROUPS most selective. */
function distribute(a: NonNullable<Need>, b: NonNullable<Need>): NonNullable<Need> {
  const product = new Map<string, Requirement[]>();
  for (const g of a)
    for (const h of b) {
      const union = new Map<string, Requirement>();
      for (const r of [...g, ...h]) union.set(`${r.field}\u0000${r.literal}`, r);
      const key = [...union.keys()].sort().join('\u0001');
      product.set(key, [...union.values()]);
    }
  return [...product.values()].sort((x, y) => score(y) - score(x)).slice(0, MAX_GROUPS);
}

function not(child: Compiled): Compiled {
  const t = child.test;
  return { test: (ev) => !t(ev), need: null };
}

/** Higher is more selective: few alternatives with long literals. */
/** At most this many groups per rule (the engine tracks them in a bit mask). */
export const MAX_GROUPS = 8;

export type Need = ReadonlyArray<readonly Requirement[]> | null;

function score(need: readonly Requirement[]): number {
  if (need.length === 0) return Infinity;
  let weakest = Infinity;
  for (const r of need) weakest = Math.min(weakest, literalQuality(r.literal));
  return Math.min(weakest, 12) * 4 - need.length;
}

// ---------------------------------------------------------------------------------------------
// Values and modifiers

interface FieldSpec {
  readonly name: string | null;
  readonly modifiers: readonly string[];
}

function parseKey(key: string, path: string): FieldSpec {
  const parts = key.split('|');
  const name = parts[0]!.trim();
  const modifiers = parts.slice(1).map((m) => m.trim());
  for (const m of modifiers) {
    if (m === '') invalid(path, `empty modifier in "${key}"`);
    if (!SUPPORTED_MODIFIERS.includes(m))
      unsupported(path, `modifier ${m}`, `unsupported modifier "${m}" in "${key}"`);
  }
  return { name: name === '' ? null : name, modifiers };
}

function utf16(text: string, littleEndian: boolean, bom: boolean): string {
  let out = bom ? (littleEndian ? '\xff\xfe' : '\xfe\xff') : '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const lo = String.fromCharCode(code & 0xff);
    const hi = String.fromCharCode(code >> 8);
    out += littleEndian ? lo + hi : hi + lo;
  }
  return out;
}

/** UTF-8 bytes of a string, as a binary string (one char per byte). */
function utf8Binary(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * The three base64 forms a text takes depending on its offset inside a larger encoded blob, with the
 * characters that depend on neighbouring bytes removed.
 */
export function base64Offsets(binary: string): string[] {
  const out: string[] = [];
  const startCut = [0, 2, 3];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = btoa('\0'.repeat(shift) + binary);
    const total = shift + binary.length;
    const tailBytes = total % 3;
    // Drop the characters that encode the neighbouring bytes (the leading padding, the unfinished tail).
    const endCut = tailBytes === 0 ? 0 : tailBytes === 1 ? 3 : 2;
    out.push(encoded.slice(startCut[shift], encoded.length - endCut));
  }
  return out;
}

function isBinaryEncoded(mods: readonly string[]): boolean {
  return mods.some(
    (m) =>
      m === 'base64' ||
      m === 'base64offset' ||
      m === 'utf16le' ||
      m === 'utf16be' ||
      m === 'utf16' ||
      m === 'wide',
  );
}

/** Applies the encoding modifiers, in the order written, to one literal string. */
function encode(text: string, mods: readonly string[]): string[] {
  let values = [text];
  let binary = false;
  for (const m of mods) {
    if (m === 'utf16le' || m === 'wide') {
      values = values.map((v) => utf16(v, true, false));
      binary = true;
    } else if (m === 'utf16be') {
      values = values.map((v) => utf16(v, false, false));
      binary = true;
    } else if (m === 'utf16') {
      values = values.map((v) => utf16(v, true, true));
      binary = true;
    } else if (m === 'base64') {
      values = values.map((v) => btoa(binary ? v : utf8Binary(v)));
      binary = false;
    } else if (m === 'base64offset') {
      values = values.flatMap((v) => base64Offsets(binary ? v : utf8Binary(v)));
      binary = false;
    }
  }
  return values;
}

const DASHES = '-/\u2013\u2014\u2015';

/**
 * windash: a dash or slash that starts a command-line flag (preceded by start or a non-word character,
 * followed by a word character) matches any of - / – — ―.
 */
export function applyWindash(pattern: Pattern): Pattern {
  const out: Piece[] = [];
  const isWord = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);
  for (const piece of pattern) {
    if (piece.kind !== 'lit') {
      out.push(piece);
      continue;
    }
    let run = '';
    const text = piece.text;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (DASHES.includes(c) && !isWord(text[i - 1]) && (isWord(text[i + 1]) || i + 1 === text.length)) {
        if (run !== '') out.push({ kind: 'lit', text: run });
        run = '';
        out.push({ kind: 'class', chars: DASHES });
      } else {
        run += c;
      }
    }
    if (run !== '') out.push({ kind: 'lit', text: run });
  }
  return out;
}

function expandPlaceholders(
  value: string,
  placeholders: Readonly<Record<string, readonly string[]>>,
  path: string,
): string[] {
  let results = [''];
  const re = /%([A-Za-z0-9_.-]+)%/g;
  let last = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const name = m[1]!;
    const options = placeholders[name];
    // An unknown placeholder is a configuration gap (the rule cannot run); one configured with an empty
    // list is a deliberate "nothing yet" (an empty blocklist): the value then matches nothing.
    if (options === undefined) {
      unsupported(
        path,
        'expand placeholder',
        `no values configured for placeholder %${name}% (modifier expand)`,
      );
    }
    const before = value.slice(last, m.index);
    results = results.flatMap((r) => options.map((o) => r + before + o));
    last = m.index + m[0].length;
  }
  const rest = value.slice(last);
  return results.map((r) => r + rest);
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function datePart(value: unknown, part: string): number | undefined {
  const ms = parseTimestamp(value);
  if (ms === undefined) return undefined;
  const d = new Date(ms);
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day':
      return d.getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
    default: {
      // ISO 8601 week number.
      const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const dayNr = (target.getUTCDay() + 6) % 7;
      target.setUTCDate(target.getUTCDate() - dayNr + 3);
      const firstThursday = new Date(Date.UTC(target.getUTCFullYear(), 0, 4));
      return (
        1 +
        Math.round(
          ((target.getTime() - firstThursday.getTime()) / 86_400_000 -
            3 +
            ((firstThursday.getUTCDay() + 6) % 7)) /
            7,
        )
      );
    }
  }
}

function compareNumber(op: string, a: number, b: number): boolean {
  switch (op) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    default:
      return a === b;
  }
}

/** Applies `test` to a field value: scalars directly, arrays element-wise (any element). */
function onValues(value: unknown, test: (text: string) => boolean): boolean {
  if (Array.isArray(value)) {
    for (const item of value) {
      const t = scalarText(item);
      if (t !== null && test(t)) return true;
    }
    return false;
  }
  const t = scalarText(value);
  return t !== null && test(t);
}

function parseCidr(text: string, path: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  try {
    return ipaddr.parseCIDR(text.trim());
  } catch (error) {
    return invalid(path, `"${text}" is not a CIDR range (${(error as Error).message})`);
  }
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let t = text.trim();
  if (t.startsWith('[') && t.includes(']')) t = t.slice(1, t.indexOf(']'));
  const zone = t.indexOf('%');
  if (zone > 0) t = t.slice(0, zone);
  if (!ipaddr.isValid(t)) return undefined;
  return ipaddr.process(t);
}

/** Compiles one `field|modifiers: value(s)` item. */
function compileFieldItem(key: string, raw: unknown, path: string, options: CompileOptions): Compiled {
  const spec = parseKey(key, path);
  const mods = spec.modifiers;
  const has = (m: string): boolean => mods.includes(m);
  const sigmaField = spec.name;
  const field = sigmaField === null ? null : (options.fieldMap?.[sigmaField] ?? sigmaField);
  const values: unknown[] = Array.isArray(raw) ? raw : [raw];
  const all = has('all');
  if (values.length === 0) return FALSE;

  for (const v of values) {
    if (v !== null && typeof v === 'object')
      invalid(
        path,
        `values must be scalars or a list of scalars, got a ${Array.isArray(v) ? 'list' : 'map'}`,
      );
  }

  const matchMods = mods.filter((m) => MATCH_MODIFIERS.has(m));
  if (matchMods.length > 1)
    invalid(path, `only one of contains, startswith, endswith may be used (got ${matchMods.join(', ')})`);

  // exists
  if (has('exists')) {
    if (field === null) invalid(path, 'exists needs a field');
    const v = values[0];
    const want =
      v === true || v === 'true'
        ? true
        : v === false || v === 'false'
          ? false
          : invalid(path, 'exists takes true or false');
    return { test: (ev) => (ev.get(field) !== undefined) === want, need: null };
  }

  // Keyword (field-less) searches.
  if (field === null) return compileKeywords(values, mods, path);

  // fieldref
  if (has('fieldref')) {
    const cased = has('cased');
    const negate = has('neq');
    const mode = matchMods[0];
    const tests = values.map((v) => {
      const other =
        typeof v === 'string'
          ? (options.fieldMap?.[v] ?? v)
          : invalid(path, 'fieldref values are field names');
      return (ev: PreparedEvent): boolean => {
        const a = scalarText(ev.get(field));
        const b = scalarText(ev.get(other));
        if (a === null || b === null) return false;
        const x = cased ? a : a.toLowerCase();
        const y = cased ? b : b.toLowerCase();
        const same =
          mode === 'contains'
            ? x.includes(y)
            : mode === 'startswith'
              ? x.startsWith(y)
              : mode === 'endswith'
                ? x.endsWith(y)
                : x === y;
        return negate ? !same : same;
      };
    });
    return combine(tests, all);
  }

  // Date parts.
  const part = mods.find((m) => DATE_PARTS.has(m));
  if (part !== undefined) {
    const op = mods.find((m) => NUMERIC.has(m)) ?? (has('neq') ? 'neq' : 'eq');
    const tests = values.map((v) => {
      const n = asNumber(v);
      if (n === undefined) return invalid(path, `${part} compares with a number, got "${String(v)}"`);
      return (ev: PreparedEvent): boolean => {
        const p = datePart(ev.get(field), part);
        if (p === undefined) return false;
        return op === 'neq' ? p !== n : compareNumber(op, p, n);
      };
    });
    return combine(tests, all);
  }

  // Numeric comparisons.
  const numeric = mods.find((m) => NUMERIC.has(m));
  if (numeric !== undefined) {
    const tests = values.map((v) => {
      const n = asNumber(v);
      if (n === undefined) return invalid(path, `${numeric} compares with a number, got "${String(v)}"`);
      return (ev: PreparedEvent): boolean => {
        const value = ev.get(field);
        if (Array.isArray(value))
          return value.some((x) => {
            const a = asNumber(x);
            return a !== undefined && compareNumber(numeric, a, n);
          });
        const a = asNumber(value);
        return a !== undefined && compareNumber(numeric, a, n);
      };
    });
    return combine(tests, all);
  }

  // cidr
  if (has('cidr')) {
    const texts = values.flatMap((v) =>
      has('expand') ? expandPlaceholders(String(v), options.placeholders ?? {}, path) : [String(v)],
    );
    // An empty expansion (a placeholder configured with no values) matches nothing.
    if (texts.length === 0) return FALSE;
    const ranges = texts.map((t) => parseCidr(t, path));
    const test = (ev: PreparedEvent): boolean =>
      onValues(ev.get(field), (text) => {
        const address = parseAddress(text);
        if (address === undefined) return false;
        const hits = ranges.map(([net, bits]) => address.kind() === net.kind() && address.match(net, bits));
        return all ? hits.every(Boolean) : hits.some(Boolean);
      });
    return { test, need: null };
  }

  // Regular expressions (linear time, see regex.ts).
  if (has('re')) {
    const flags = (has('i') ? 'i' : '') + (has('m') ? 'm' : '') + (has('s') ? 's' : '');
    const regexes = values.map((v) => {
      if (typeof v !== 'string') return invalid(path, 're needs a string pattern');
      return compileRegex(v, flags, path);
    });
    const negate = has('neq');
    const tests = regexes.map((re) => (ev: PreparedEvent) => {
      const hit = onValues(ev.get(field), (text) => re.test(text));
      return negate ? !hit : hit;
    });
    const combined = combine(tests, all);
    if (negate) return combined;
    // Prefilter on the literal each pattern requires (RE2 calls are the dearest test there is).
    const literals = values.map((v) => regexRequiredLiteral(String(v)));
    if (all) {
      const best = literals.reduce((a, b) => (literalQuality(b) > literalQuality(a) ? b : a), '');
      return { test: combined.test, need: best === '' ? null : [[{ field, literal: best }]] };
    }
    if (literals.some((l) => l === '')) return combined;
    return { test: combined.test, need: [literals.map((literal) => ({ field, literal }))] };
  }
  for (const m of ['i', 'm', 's']) if (has(m)) invalid(path, `modifier "${m}" only applies after "re"`);

  // null values: the field is absent or null.
  const nullCheck = values.some((v) => v === null);
  const stringValues = values.filter((v) => v !== null);

  // String matching (the common case).
  const encoded = isBinaryEncoded(mods);
  const cased = has('cased') || encoded;
  const encodings = mods.filter((m) => ENCODINGS.has(m));
  const groups: Pattern[][] = [];
  for (const v of stringValues) {
    const group: Pattern[] = [];
    let texts = [scalarText(v)!];
    if (has('expand')) texts = texts.flatMap((t) => expandPlaceholders(t, options.placeholders ?? {}, path));
    for (const text of texts) {
      const bases = encoded ? encode(text, encodings).map(literalPattern) : [parseSigmaString(text)];
      for (const base of bases) {
        let p = has('windash') ? applyWindash(base) : base;
        const mode = matchMods[0];
        if (mode === 'contains') p = [{ kind: 'star' }, ...p, { kind: 'star' }];
        else if (mode === 'startswith') p = [...p, { kind: 'star' }];
        else if (mode === 'endswith') p = [{ kind: 'star' }, ...p];
        group.push(normalise(cased ? p : lowerPattern(p)));
      }
    }
    groups.push(group);
  }
  const negate = has('neq');
  // Encodings and expansion can turn one value into several alternatives (or none: an empty placeholder):
  // "all" applies per original value.
  const stringTest =
    all && groups.some((g) => g.length !== 1)
      ? and(groups.map((g) => compileStrings(field, g, false, cased)))
      : compileStrings(field, groups.flat(), all, cased);
  let test = stringTest.test;
  let need = negate ? null : stringTest.need;
  if (negate) {
    const inner = test;
    test = (ev) => ev.get(field) !== undefined && ev.get(field) !== null && !inner(ev);
  }
  if (nullCheck) {
    const isNull = (ev: PreparedEvent): boolean => {
      const v = ev.get(field);
      return v === undefined || v === null;
    };
    if (stringValues.length === 0) return { test: isNull, need: null };
    const inner = test;
    test = (ev) => isNull(ev) || inner(ev);
    need = null;
  }
  return { test, need };
}

function combine(tests: Predicate[], all: boolean): Compiled {
  const children = tests.map((test) => ({ test, need: null }));
  return all ? and(children) : or(children);
}

function compileStrings(field: string, patterns: Pattern[], all: boolean, cased: boolean): Compiled {
  const exact = new Set<string>();
  const others: StringTest[] = [];
  for (const p of patterns) {
    const head = p[0];
    const lit = p.length === 0 ? '' : p.length === 1 && head?.kind === 'lit' ? head.text : null;
    if (!all && lit !== null) exact.add(lit);
    else others.push(compilePattern(p));
  }
  let textTest: StringTest;
  if (all) {
    textTest = (s) => {
      for (const t of others) if (!t(s)) return false;
      return true;
    };
  } else if (others.length === 0) {
    textTest =
      exact.size === 1
        ? (
            (only) => (s: string) =>
              s === only
          )([...exact][0]!)
        : (s) => exact.has(s);
  } else if (exact.size === 0) {
    textTest =
      others.length === 1
        ? others[0]!
        : (s) => {
            for (const t of others) if (t(s)) return true;
            return false;
          };
  } else {
    textTest = (s) => {
      if (exact.has(s)) return true;
      for (const t of others) if (t(s)) return true;
      return false;
    };
  }
  const test: Predicate = cased
    ? (ev) => onValues(ev.get(field), textTest)
    : (ev) => {
        const s = ev.lower(field);
        if (s !== null) return textTest(s);
        const v = ev.get(field);
        return Array.isArray(v) && onValues(v, (t) => textTest(t.toLowerCase()));
      };
  // The prefilter requirement: each pattern's longest literal (all of them for "all", any otherwise).
  let need: Requirement[] | null = [];
  const literals = patterns.map((p) => bestLiteral(p).toLowerCase());
  if (all) {
    // Every pattern holds: one group per literal.
    const groups = literals.filter((l) => l.length > 0).map((literal) => [{ field, literal }]);
    return { test, need: groups.length === 0 ? null : groups.slice(0, MAX_GROUPS) };
  } else {
    for (const lit of literals) {
      if (lit.length < 1) {
        need = null;
        break;
      }
      need.push({ field, literal: lit });
    }
  }
  return { test, need: need === null ? null : [need] };
}

function compileKeywords(values: unknown[], mods: readonly string[], path: string): Compiled {
  const all = mods.includes('all');
  if (mods.includes('re')) {
    const regexes = values.map((v) =>
      compileRegex(
        String(v),
        (mods.includes('i') ? 'i' : '') + (mods.includes('m') ? 'm' : '') + (mods.includes('s') ? 's' : ''),
        path,
      ),
    );
    const tests = regexes.map((re) => (ev: PreparedEvent) => ev.keywords().some((k) => re.test(k)));
    return combine(tests, all);
  }
  for (const m of mods) {
    if (!['all', 'contains', 'startswith', 'endswith', 'cased', 'windash', ...ENCODINGS].includes(m)) {
      unsupported(path, `keyword modifier ${m}`, `modifier "${m}" needs a field`);
    }
  }
  const cased = mods.includes('cased') || isBinaryEncoded(mods);
  const needs: Requirement[] = [];
  let needKnown = true;
  const tests = values.map((v) => {
    if (v === null) return invalid(path, 'keyword values must not be null');
    const text = scalarText(v);
    if (text === null) return invalid(path, 'keyword values must be scalars');
    const bases = isBinaryEncoded(mods)
      ? encode(
          text,
          mods.filter((m) => ENCODINGS.has(m)),
        ).map(literalPattern)
      : [parseSigmaString(text)];
    const matchers = bases.map((base) => {
      let p = mods.includes('windash') ? applyWindash(base) : base;
      // A keyword matches anywhere inside any value unless anchored by startswith/endswith.
      if (mods.includes('startswith')) p = [...p, { kind: 'star' }];
      else if (mods.includes('endswith')) p = [{ kind: 'star' }, ...p];
      else p = [{ kind: 'star' }, ...p, { kind: 'star' }];
      const lit = bestLiteral(p).toLowerCase();
      if (lit === '') needKnown = false;
      else needs.push({ field: KEYWORDS_FIELD, literal: lit });
      return compilePattern(normalise(cased ? p : lowerPattern(p)));
    });
    return (ev: PreparedEvent): boolean => {
      for (const k of ev.keywords()) {
        const s = cased ? k : k.toLowerCase();
        for (const m of matchers) if (m(s)) return true;
      }
      return false;
    };
  });
  const compiled = combine(tests, all);
  if (!needKnown || all) return { test: compiled.test, need: null };
  return { test: compiled.test, need: [needs] };
}

/** Compiles one search identifier's definition (map, list of maps, or keyword list). */
export function compileSearch(definition: unknown, path: string, options: CompileOptions): Compiled {
  if (definition === null || definition === undefined)
    return invalid(path, 'a search identifier must not be empty');
  if (Array.isArray(definition)) {
    if (definition.length === 0) return FALSE;
    const maps = definition.filter((d) => typeof d === 'object' && d !== null && !Array.isArray(d));
    if (maps.length === definition.length) {
      return or(definition.map((d, i) => compileSearch(d, `${path}[${i}]`, options)));
    }
    if (maps.length === 0) return compileKeywords(definition, [], path);
    return or(
      definition.map((d, i) =>
        typeof d === 'object' && d !== null
          ? compileSearch(d, `${path}[${i}]`, options)
          : compileKeywords([d], [], `${path}[${i}]`),
      ),
    );
  }
  if (typeof definition === 'object') {
    const entries = Object.entries(definition as Record<string, unknown>);
    if (entries.length === 0) return invalid(path, 'a search identifier map must not be empty');
    return and(entries.map(([key, value]) => compileFieldItem(key, value, `${path}.${key}`, options)));
  }
  return compileKeywords([definition], [], path);
}

/** Compiles a condition over compiled search identifiers. */
export function compileCondition(
  node: ConditionNode,
  searches: ReadonlyMap<string, Compiled>,
  path: string,
): Compiled {
  switch (node.type) {
    case 'and':
      return and(node.operands.map((o) => compileCondition(o, searches, path)));
    case 'or':
      return or(node.operands.map((o) => compileCondition(o, searches, path)));
    case 'not':
      return not(compileCondition(node.operand, searches, path));
    case 'ref': {
      const found = searches.get(node.name);
      if (found === undefined)
        return invalid(path, `condition refers to unknown search identifier "${node.name}"`);
      return found;
    }
    case 'of': {
      const names = [...searches.keys()].filter((name) =>
        node.pattern === 'them' ? !name.startsWith('_') : identifierMatches(node.pattern, name),
      );
      if (names.length === 0)
        return invalid(
          path,
          `"${node.quantifier === 'all' ? 'all' : '1'} of ${node.pattern}" matches no search identifier`,
        );
      const parts = names.map((n) => searches.get(n)!);
      return node.quantifier === 'all' ? and(parts) : or(parts);
    }
  }
}

/** Compiles a detection section (search identifiers plus conditions). Pure; throws SigmaRuleError. */
export function compileDetection(
  detection: Readonly<Record<string, unknown>>,
  conditions: readonly ConditionNode[],
  options: CompileOptions,
  prefix = 'detection',
): Compiled {
  const searches = new Map<string, Compiled>();
  for (const [name, definition] of Object.entries(detection)) {
    searches.set(name, compileSearch(definition, `${prefix}.${name}`, options));
  }
  const compiled = conditions.map((c) => compileCondition(c, searches, `${prefix}.condition`));
  const rule = compiled.length === 1 ? compiled[0]! : or(compiled);
  return { test: rule.test, need: withoutWeakGroups(rule.need) };
}

/**
 * A requirement group is weak when one of its literals has a quality (see `literalQuality`) below this:
 * shorter than the prefilter's four-character anchors, or common text such as `.exe` or `c:\\users\\`.
 */
const STRONG_QUALITY = 4;

/**
 * A rule's requirement less its weak groups, when it has a strong one. A weak group is present in
 * most events (a backslash, a space, `/c`), so it rarely spares a rule test, while every occurrence
 * of its literals costs the prefilter a tally (and short literals a second scan of the field). Over the
 * SigmaHQ regression events this halved the literal payloads tallied per event (162 to 80) for one
 * more candidate tested (3.3 to 4.3), and took 6% off the CPU time of the parallel hunt. A rule whose
 * groups are all weak keeps them: they still spare most of its tests.
 */
function withoutWeakGroups(need: Need): Need {
  if (need === null) return null;
  const strong = need.filter(
    (g) => g.length === 0 || g.every((r) => literalQuality(r.literal) >= STRONG_QUALITY),
  );
  return strong.length === 0 ? need : strong;
}

export { TRUE as ALWAYS };
