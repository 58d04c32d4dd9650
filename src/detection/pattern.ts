/**
 * Sigma string values as glob patterns: `*` (any run), `?` (one UTF-16 code unit), and character classes
 * (used by `windash`). Matching is linear in the value for each literal segment: no backtracking over
 * `*` (a leftmost greedy search per segment is exact for globs).
 */

export type Piece =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'class'; readonly chars: string };

export type Pattern = readonly Piece[];

/**
 * Parses a Sigma string: `*` and `?` are wildcards; `\*`, `\?` and `\\` escape them and the backslash;
 * a backslash before any other character is a literal backslash (so `C:\Windows` needs no doubling).
 */
export function parseSigmaString(value: string): Pattern {
  const out: Piece[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') out.push({ kind: 'lit', text: literal });
    literal = '';
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        literal += next;
        i++;
      } else {
        literal += c;
      }
    } else if (c === '*') {
      flush();
      out.push({ kind: 'star' });
    } else if (c === '?') {
      flush();
      out.push({ kind: 'one' });
    } else {
      literal += c;
    }
  }
  flush();
  return out;
}

/** A pattern holding only literal text. */
export function literalPattern(text: string): Pattern {
  return text === '' ? [] : [{ kind: 'lit', text }];
}

/** Merges adjacent literals and collapses repeated stars. */
export function normalise(pattern: Pattern): Pattern {
  const out: Piece[] = [];
  for (const piece of pattern) {
    const last = out[out.length - 1];
    if (piece.kind === 'lit' && piece.text === '') continue;
    if (piece.kind === 'lit' && last?.kind === 'lit') {
      out[out.length - 1] = { kind: 'lit', text: last.text + piece.text };
    } else if (piece.kind === 'star' && last?.kind === 'star') {
      continue;
    } else {
      out.push(piece);
    }
  }
  return out;
}

export function lowerPattern(pattern: Pattern): Pattern {
  return pattern.map((p) =>
    p.kind === 'lit'
      ? { kind: 'lit', text: p.text.toLowerCase() }
      : p.kind === 'class'
        ? { kind: 'class', chars: p.chars.toLowerCase() }
        : p,
  );
}

/** The literal text of a pattern without wildcards, or null. */
export function patternLiteral(pattern: Pattern): string | null {
  let text = '';
  for (const p of pattern) {
    if (p.kind !== 'lit') return null;
    text += p.text;
  }
  return text;
}

/** The longest literal run a match must contain (for prefilters). */
export function longestLiteral(pattern: Pattern): string {
  let best = '';
  for (const p of pattern) if (p.kind === 'lit' && p.text.length > best.length) best = p.text;
  return best;
}

/**
 * Text found in most Windows events: a prefilter literal made only of it selects nearly everything.
 * Lower-cased; a literal is "common" when it is a substring of one of these.
 */
const COMMON_TEXT = [
  'c:\\windows\\system32\\',
  'c:\\windows\\syswow64\\',
  'c:\\program files (x86)\\',
  'c:\\users\\',
  'c:\\programdata\\',
  '\\appdata\\local\\',
  '\\appdata\\roaming\\',
  '.exe',
  '.dll',
  'microsoft corporation',
  'microsoft',
];

/** How useful a literal is to a prefilter: its length, much less when it is common text. */
export function literalQuality(literal: string): number {
  const lower = literal.toLowerCase();
  for (const common of COMMON_TEXT) if (common.includes(lower)) return Math.min(lower.length, 2);
  return lower.length;
}

/** The literal run of a pattern that best narrows a prefilter (see `literalQuality`). */
export function bestLiteral(pattern: Pattern): string {
  let best = '';
  let bestQuality = -1;
  for (const p of pattern) {
    if (p.kind !== 'lit') continue;
    const q = literalQuality(p.text);
    if (q > bestQuality || (q === bestQuality && p.text.length > best.length)) {
      best = p.text;
      bestQuality = q;
    }
  }
  return best;
}

/** A segment between stars: literal chars, `?` (null) or classes (string of alternatives). */
type Unit = string | null | { readonly chars: string };
interface Segment {
  readonly units: readonly Unit[];
  /** Set when the segment is plain text, for indexOf/startsWith fast paths. */
  readonly text: string | null;
}

function segmentOf(pieces: readonly Piece[]): Segment {
  const units: Unit[] = [];
  let plain = true;
  for (const p of pieces) {
    if (p.kind === 'lit') for (const c of p.text) units.push(...splitUnits(c));
    else if (p.kind === 'one') {
      units.push(null);
      plain = false;
    } else if (p.kind === 'class') {
      units.push({ chars: p.chars });
      plain = false;
    }
  }
  const text = plain ? (units as string[]).join('') : null;
  return { units, text };
}

/** Code points outside the BMP are two units long in JS strings; keep matching in code units. */
function splitUnits(c: string): string[] {
  return c.length === 1 ? [c] : [...Array.from({ length: c.length }, (_, i) => c[i]!)];
}

function unitMatches(unit: Unit, c: string): boolean {
  if (unit === null) return true;
  if (typeof unit === 'string') return unit === c;
  return unit.chars.includes(c);
}

function matchAt(s: string, pos: number, seg: Segment): boolean {
  if (seg.text !== null) return s.startsWith(seg.text, pos);
  const units = seg.units;
  if (pos + units.length > s.length) return false;
  for (let i = 0; i < units.length; i++) if (!unitMatches(units[i]!, s[pos + i]!)) return false;
  return true;
}

function find(s: string, from: number, seg: Segment): number {
  if (seg.text !== null) return s.indexOf(seg.text, from);
  const last = s.length - seg.units.length;
  for (let pos = from; pos <= last; pos++) if (matchAt(s, pos, seg)) return pos;
  return -1;
}

export type StringTest = (value: string) => boolean;

/**
 * Compiles a pattern into a test over already case-normalised strings. Literal-only, prefix, suffix and
 * infix patterns use native string methods; anything else the segment search.
 */
export function compilePattern(input: Pattern): StringTest {
  const pattern = normalise(input);
  const literal = patternLiteral(pattern);
  if (literal !== null) return (s) => s === literal;
  const n = pattern.length;
  const first = pattern[0];
  const lastPiece = pattern[n - 1];
  if (n === 1 && first?.kind === 'star') return () => true;
  if (n === 2 && first?.kind === 'lit' && lastPiece?.kind === 'star') {
    const text = first.text;
    return (s) => s.startsWith(text);
  }
  if (n === 2 && first?.kind === 'star' && lastPiece?.kind === 'lit') {
    const text = lastPiece.text;
    return (s) => s.endsWith(text);
  }
  if (n === 3 && first?.kind === 'star' && lastPiece?.kind === 'star' && pattern[1]?.kind === 'lit') {
    const text = pattern[1].text;
    return (s) => s.includes(text);
  }
  // General case: split on stars.
  const groups: Piece[][] = [[]];
  for (const p of pattern) {
    if (p.kind === 'star') groups.push([]);
    else groups[groups.length - 1]!.push(p);
  }
  const segments = groups.map(segmentOf);
  const anchoredStart = pattern[0]?.kind !== 'star';
  const anchoredEnd = lastPiece?.kind !== 'star';
  if (segments.length === 1) {
    const only = segments[0]!;
    return (s) => s.length === only.units.length && matchAt(s, 0, only);
  }
  const head = segments[0]!;
  const tail = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1);
  const minLength = segments.reduce((sum, seg) => sum + seg.units.length, 0);
  return (s) => {
    if (s.length < minLength) return false;
    let pos = 0;
    if (anchoredStart) {
      if (!matchAt(s, 0, head)) return false;
      pos = head.units.length;
    }
    const end = anchoredEnd ? s.length - tail.units.length : s.length;
    if (anchoredEnd && (end < pos || !matchAt(s, end, tail))) return false;
    for (const seg of middle) {
      if (seg.units.length === 0) continue;
      const at = find(s, pos, seg);
      if (at < 0 || at + seg.units.length > end) return false;
      pos = at + seg.units.length;
    }
    if (!anchoredEnd && tail.units.length > 0) {
      const at = find(s, pos, tail);
      return at >= 0;
    }
    return pos <= end;
  };
}
