import { invalid, unsupported } from './errors.js';

/**
 * The Sigma condition grammar. Precedence, from loosest to tightest: `or`, `and`, `not`; then the
 * quantified forms (`1 of x*`, `all of x*`, `1 of them`, `all of them`) and parentheses.
 * Keywords are matched case-insensitively; identifiers may hold `*` wildcards only after `of`.
 */
export type ConditionNode =
  | { readonly type: 'and' | 'or'; readonly operands: readonly ConditionNode[] }
  | { readonly type: 'not'; readonly operand: ConditionNode }
  | { readonly type: 'ref'; readonly name: string }
  | { readonly type: 'of'; readonly quantifier: 'one' | 'all'; readonly pattern: string };

interface Token {
  readonly kind: 'lparen' | 'rparen' | 'word';
  readonly text: string;
  readonly at: number;
}

function tokenize(text: string, path: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'lparen', text: c, at: i++ });
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', text: c, at: i++ });
    } else if (c === '|') {
      unsupported(
        path,
        'condition aggregation',
        `aggregation expressions ("| count() ...") are deprecated Sigma; use a correlation rule`,
      );
    } else {
      const start = i;
      while (i < text.length && !' \t\n\r()|'.includes(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'near']);

/** Parses a condition string. Throws SigmaRuleError (`sigma_rule_invalid`) naming `path` on bad syntax. */
export function parseCondition(text: string, path: string): ConditionNode {
  const tokens = tokenize(text, path);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const word = (t: Token | undefined): string | undefined =>
    t?.kind === 'word' ? t.text.toLowerCase() : undefined;
  const fail = (message: string): never => invalid(path, `${message} in condition "${text}"`);

  const parseOr = (): ConditionNode => {
    const operands = [parseAnd()];
    while (word(peek()) === 'or') {
      pos++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { type: 'or', operands };
  };
  const parseAnd = (): ConditionNode => {
    const operands = [parseNot()];
    while (word(peek()) === 'and') {
      pos++;
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { type: 'and', operands };
  };
  const parseNot = (): ConditionNode => {
    if (word(peek()) === 'not') {
      pos++;
      return { type: 'not', operand: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): ConditionNode => {
    const token = peek();
    if (token === undefined) return fail('unexpected end');
    if (token.kind === 'lparen') {
      pos++;
      const inner = parseOr();
      if (peek()?.kind !== 'rparen') fail(`missing ")" for "(" at ${token.at}`);
      pos++;
      return inner;
    }
    if (token.kind === 'rparen') return fail(`unexpected ")" at ${token.at}`);
    const lower = token.text.toLowerCase();
    const next = word(tokens[pos + 1]);
    if (next === 'of' && (lower === '1' || lower === 'all' || lower === 'any')) {
      pos += 2;
      const target = peek();
      if (target?.kind !== 'word') return fail(`"${token.text} of" needs a name pattern or "them"`);
      pos++;
      const pattern = target.text.toLowerCase() === 'them' ? 'them' : target.text;
      return { type: 'of', quantifier: lower === 'all' ? 'all' : 'one', pattern };
    }
    if (next === 'of') {
      return unsupported(
        path,
        'condition "N of"',
        `"${token.text} of" is not Sigma: only "1 of" and "all of" are defined`,
      );
    }
    if (lower === 'near')
      return unsupported(
        path,
        'condition near',
        '"near" is deprecated Sigma; use a temporal correlation rule',
      );
    if (KEYWORDS.has(lower)) return fail(`unexpected "${token.text}" at ${token.at}`);
    pos++;
    return { type: 'ref', name: token.text };
  };

  const node = parseOr();
  if (pos < tokens.length) fail(`unexpected "${tokens[pos]!.text}" at ${tokens[pos]!.at}`);
  return node;
}

/** Glob match for identifier patterns in `1 of x*` (only `*` is special). */
export function identifierMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const parts = pattern.split('*');
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === 0) {
      if (!name.startsWith(part)) return false;
      pos = part.length;
    } else if (i === parts.length - 1) {
      return name.length - part.length >= pos && name.endsWith(part);
    } else {
      const at = name.indexOf(part, pos);
      if (at < 0) return false;
      pos = at + part.length;
    }
  }
  return pos === name.length;
}
