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
  return { source: pattern, test: (text) => re.test(text) };
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
