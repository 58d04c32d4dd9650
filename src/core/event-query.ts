import { UserError } from './errors.js';

/**
 * The event search language of `GET /api/v1/events?q=` and `firebreak events search --q`:
 * whitespace-separated terms, all of which must hold.
 *   field:value        the normalised field equals value (case-insensitive; any element of an array)
 *   field:"a value"    the same with spaces
 *   field:val*         `*` matches any run of characters
 *   -field:value       the term must not hold
 *   word / "a phrase"  the raw event contains the text (case-insensitive)
 * Parsed by a single left-to-right scan: no regular expression sees the user's text.
 */
export interface FieldTerm {
  readonly kind: 'field';
  readonly field: string;
  readonly value: string;
  readonly negated: boolean;
}

export interface TextTerm {
  readonly kind: 'text';
  readonly text: string;
  readonly negated: boolean;
}

export type EventQueryTerm = FieldTerm | TextTerm;

export const MAX_QUERY_TERMS = 20;

function isFieldChar(c: string): boolean {
  return (
    (c >= 'a' && c <= 'z') ||
    (c >= 'A' && c <= 'Z') ||
    (c >= '0' && c <= '9') ||
    c === '.' ||
    c === '_' ||
    c === '@' ||
    c === '-'
  );
}

function invalid(message: string): UserError {
  return new UserError('invalid_query', `q: ${message}`, { field: 'q' });
}

export function parseEventQuery(q: string): EventQueryTerm[] {
  const terms: EventQueryTerm[] = [];
  let i = 0;
  const n = q.length;
  const readValue = (): string => {
    if (q[i] === '"') {
      i += 1;
      let out = '';
      while (i < n && q[i] !== '"') {
        if (q[i] === '\\' && i + 1 < n) i += 1;
        out += q[i];
        i += 1;
      }
      if (i >= n) throw invalid('a quoted value is not closed');
      i += 1;
      return out;
    }
    const start = i;
    while (i < n && q[i] !== ' ' && q[i] !== '\t') i += 1;
    return q.slice(start, i);
  };
  while (i < n) {
    while (i < n && (q[i] === ' ' || q[i] === '\t')) i += 1;
    if (i >= n) break;
    let negated = false;
    if (q[i] === '-' && i + 1 < n && q[i + 1] !== ' ') {
      negated = true;
      i += 1;
    }
    const start = i;
    let j = i;
    while (j < n && isFieldChar(q[j]!)) j += 1;
    if (j > start && q[j] === ':') {
      const field = q.slice(start, j);
      i = j + 1;
      const value = readValue();
      if (value === '') throw invalid(`the term for "${field}" has no value`);
      terms.push({ kind: 'field', field, value, negated });
    } else {
      const text = readValue();
      if (text !== '') terms.push({ kind: 'text', text, negated });
    }
    if (terms.length > MAX_QUERY_TERMS) throw invalid(`at most ${MAX_QUERY_TERMS} terms`);
  }
  return terms;
}
