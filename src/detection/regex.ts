import RE2 from 're2';
import { unsupported } from './errors.js';

/**
 * Regular expressions from rules run on RE2 (the `re2` package, Google's automaton-based engine):
 * matching is linear in the input whatever the pattern, so a rule cannot stall the engine with
 * catastrophic backtracking. The price: features that need backtracking (look-around, back-references,
 * possessive quantifiers, atomic groups) are refused at compile time with `sigma_feature_unsupported`.
 */
export interface CompiledRegex {
  readonly source: string;
  test(text: string): boolean;
}

/** Compiles `pattern` with Sigma's `re` sub-modifier flags (`i`, `m`, `s`). Throws SigmaRuleError. */
export function compileRegex(pattern: string, flags: string, path: string): CompiledRegex {
  let re: RE2;
  try {
    re = new RE2(pattern, flags);
  } catch (error) {
    const message = (error as Error).message;
    const feature = /\(\?[=!]|\(\?<[=!]/.test(pattern)
      ? 'regex look-around'
      : /\\[1-9]|\\k</.test(pattern)
        ? 'regex back-reference'
        : 'regex syntax';
    return unsupported(
      path,
      feature,
      `regular expression not accepted by the linear-time engine (${message})`,
    );
  }
  const min = regexMinLength(pattern);
  // RE2 reads UTF-8: handed a string, it converts and copies it into a new Buffer on every call. Bytes
  // encoded here once per value (shared by every regex that reads the same value) are read in place,
  // and values shorter than any match are not handed over at all.
  const bytes = re as unknown as { test(input: Uint8Array): boolean };
  return {
    source: pattern,
    test: (text) => text.length >= min && bytes.test(utf8(text)),
  };
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);
let lastText: string | undefined;
let lastBytes = new Uint8Array(0);

/**
 * The UTF-8 bytes of `text` (lone surrogates as U+FFFD, as RE2's own conversion writes them), as a view
 * of a scratch buffer that the next call with a different text overwrites. One text remembered: the
 * regexes of one field value share one conversion.
 */
function utf8(text: string): Uint8Array {
  if (text === lastText) return lastBytes;
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  lastText = text;
  lastBytes = scratch.subarray(0, written);
  return lastBytes;
}

/** Thrown inside `regexMinLength` on syntax it does not model; the bound is then 0. */
const UNKNOWN = new Error('regexMinLength: unmodelled syntax');

/**
 * A lower bound on the length, in UTF-16 code units, of any text in which `pattern` finds a match: the
 * fewest code points a match can span (a code point takes one or two code units, and a match lies
 * inside the text). 0 when nothing is known. Conservative: any construct not modelled below (\Q...\E,
 * \C, octal escapes, a brace that is not a repetition, unknown group syntax) gives 0 for the whole
 * pattern. Case folding does not change the count: RE2 folds one code point to one code point.
 */
export function regexMinLength(pattern: string): number {
  let i = 0;
  const n = pattern.length;
  const fail = (): never => {
    throw UNKNOWN;
  };
  const alternation = (): number => {
    let best = sequence();
    while (pattern[i] === '|') {
      i++;
      best = Math.min(best, sequence());
    }
    return best;
  };
  const sequence = (): number => {
    let total = 0;
    while (i < n && pattern[i] !== '|' && pattern[i] !== ')') {
      const atomLength = atom();
      total += atomLength * repetitions();
    }
    return total;
  };
  /** The product of the minimum counts of the quantifiers at `i` (1 when none). */
  const repetitions = (): number => {
    let times = 1;
    for (;;) {
      const q = pattern[i];
      if (q === '*' || q === '?') {
        times = 0;
        i++;
      } else if (q === '+') {
        i++;
      } else if (q === '{') {
        const m = /^\{(\d+)(?:,\d*)?\}/.exec(pattern.slice(i));
        if (m === null) return fail();
        times *= Number(m[1]);
        i += m[0].length;
      } else return times;
      if (pattern[i] === '?') i++; // lazy
    }
  };
  const braced = (): void => {
    const close = pattern.indexOf('}', i);
    if (pattern[i] !== '{' || close < 0) fail();
    i = close + 1;
  };
  const atom = (): number => {
    const c = pattern[i]!;
    if (c === '(') {
      i++;
      if (pattern[i] === '?') {
        const rest = pattern.slice(i);
        const flagsOnly = /^\?[imsU-]*\)/.exec(rest);
        if (flagsOnly !== null) {
          i += flagsOnly[0].length;
          return 0;
        }
        const opening = /^\?(?:[imsU-]*:|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(rest);
        if (opening === null) return fail();
        i += opening[0].length;
      }
      const inner = alternation();
      if (pattern[i] !== ')') return fail();
      i++;
      return inner;
    }
    if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++; // a leading ] is a member
      while (i < n && pattern[i] !== ']') {
        if (pattern[i] === '\\') i += 2;
        else if (pattern.startsWith('[:', i)) {
          const close = pattern.indexOf(':]', i + 2);
          if (close < 0) return fail();
          i = close + 2;
        } else i++;
      }
      if (i >= n) return fail();
      i++;
      return 1;
    }
    if (c === '.') {
      i++;
      return 1;
    }
    if (c === '^' || c === '$') {
      i++;
      return 0;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') return fail();
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return fail();
      i += 2;
      if ('dDwWsSnrtfva'.includes(e)) return 1;
      if ('bBAz'.includes(e)) return 0;
      if (e === 'p' || e === 'P') {
        if (pattern[i] === '{') braced();
        else if (/^[A-Za-z]/.test(pattern[i] ?? '')) i++;
        else fail();
        return 1;
      }
      if (e === 'x') {
        if (pattern[i] === '{') braced();
        else if (/^[0-9A-Fa-f]{2}/.test(pattern.slice(i, i + 2))) i += 2;
        else fail();
        return 1;
      }
      if (e === 'u') {
        if (pattern[i] === '{') braced();
        else if (/^[0-9A-Fa-f]{4}/.test(pattern.slice(i, i + 4))) i += 4;
        else fail();
        return 1;
      }
      if (/[A-Za-z0-9]/.test(e)) return fail();
      // an escaped punctuation or other character: itself (a surrogate pair is one code point)
      if (e.charCodeAt(0) >= 0xd800 && e.charCodeAt(0) <= 0xdbff) i++;
      return 1;
    }
    const code = pattern.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff && i + 1 < n ? 2 : 1;
    return 1;
  };
  try {
    const min = alternation();
    return i === n ? min : 0;
  } catch (error) {
    if (error === UNKNOWN) return 0;
    throw error;
  }
}

/**
 * The longest literal every match of `pattern` contains, lower-cased (for the prefilter), or '' when
 * none can be derived (top-level alternation, no plain run). Conservative: groups, classes, escapes
 * other than escaped punctuation, and optional characters end a run.
 */
export function regexRequiredLiteral(pattern: string): string {
  let best = '';
  let run = '';
  const end = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let i = 0;
  if (pattern.startsWith('(?i)')) i = 4;
  const quantifierFollows = (at: number): 'optional' | 'repeat' | null => {
    const q = pattern[at];
    if (q === '?' || q === '*') return 'optional';
    if (q === '{')
      return /^\{0*[,}]/.test(pattern.slice(at)) || /^\{0,/.test(pattern.slice(at)) ? 'optional' : 'repeat';
    if (q === '+') return 'repeat';
    return null;
  };
  /** The index after a quantifier starting at `at` (or `at` when none). */
  const skipQuantifier = (at: number): number => {
    const q = pattern[at];
    let next = at;
    if (q === '?' || q === '*' || q === '+') next = at + 1;
    else if (q === '{') {
      const m = /^\{\d*(,\d*)?\}/.exec(pattern.slice(at));
      if (m) next = at + m[0].length;
    }
    if (next > at && (pattern[next] === '?' || pattern[next] === '+')) next++;
    return next;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '|') return ''; // top-level alternation: no single requirement
    if (c === '(') {
      end();
      // Skip the whole group (it may be optional or hold alternatives).
      let depth = 0;
      for (; i < pattern.length; i++) {
        const g = pattern[i]!;
        if (g === '\\') i++;
        else if (g === '[') {
          for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
        } else if (g === '(') depth++;
        else if (g === ')' && --depth === 0) break;
      }
      i = skipQuantifier(i + 1);
      continue;
    }
    if (c === '[') {
      end();
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      i = skipQuantifier(i + 1);
      continue;
    }
    let literal: string | null = null;
    let width = 1;
    if (c === '\\') {
      const n = pattern[i + 1];
      width = 2;
      if (n !== undefined && /[^A-Za-z0-9]/.test(n)) literal = n;
      else if (n === 'x' || n === 'u' || n === 'p' || n === 'P') {
        const rest = pattern.slice(i + 2);
        const m =
          n === 'x'
            ? /^(\{[^}]*\}|[0-9A-Fa-f]{2})/.exec(rest)
            : n === 'u'
              ? /^(\{[^}]*\}|[0-9A-Fa-f]{4})/.exec(rest)
              : /^(\{[^}]*\}|[A-Za-z])/.exec(rest);
        width += m ? m[0].length : 0;
      } else if (n !== undefined && /[0-9]/.test(n)) {
        while (/[0-9]/.test(pattern[i + width] ?? '')) width++;
      }
    } else if (!'.^$*+?{}'.includes(c)) {
      literal = c;
    }
    if (literal === null) {
      end();
      i = skipQuantifier(i + width);
      continue;
    }
    const q = quantifierFollows(i + width);
    if (q === 'optional') {
      end();
    } else if (q === 'repeat') {
      run += literal;
      end();
    } else {
      run += literal;
    }
    i = skipQuantifier(i + width);
  }
  end();
  return best.toLowerCase();
}
