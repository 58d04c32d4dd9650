import { UserError } from '../core/errors.js';

/**
 * Keyset pagination. A cursor is opaque to clients: base64url JSON of the sort it belongs to and the
 * sort-key values of the last row served. It is only valid with the same sort and order.
 */
export type SortOrder = 'asc' | 'desc';

interface CursorContent {
  readonly s: string;
  readonly o: SortOrder;
  readonly v: readonly (string | number)[];
}

export function encodeCursor(sort: string, order: SortOrder, values: readonly (string | number)[]): string {
  const content: CursorContent = { s: sort, o: order, v: values };
  return Buffer.from(JSON.stringify(content), 'utf8').toString('base64url');
}

/** Throws UserError `invalid_cursor` (field `cursor`) for anything this sort did not produce. */
export function decodeCursor(
  cursor: string,
  sort: string,
  order: SortOrder,
  arity: number,
): readonly (string | number)[] {
  const fail = (why: string) =>
    new UserError('invalid_cursor', `cursor is not valid for this list: ${why}`, { field: 'cursor' });
  let content: unknown;
  try {
    content = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fail('not a cursor');
  }
  if (typeof content !== 'object' || content === null) throw fail('not a cursor');
  const { s, o, v } = content as Partial<CursorContent>;
  if (s !== sort || o !== order) throw fail('it belongs to another sort order');
  if (
    !Array.isArray(v) ||
    v.length !== arity ||
    !v.every((item) => typeof item === 'string' || typeof item === 'number')
  ) {
    throw fail('malformed');
  }
  return v;
}

/** Escapes LIKE wildcards so user text matches literally (used with `ESCAPE '\'`). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
