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
    return unsupported(path, feature, `regular expression not accepted by the linear-time engine (${message})`);
  }
  return { source: pattern, test: (text) => re.test(text) };
}
