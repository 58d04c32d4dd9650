import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { MAX_ITEMS, parseDocuments, toIsoTime, withinDepth } from '../../src/integrations/common.js';

describe('webhook body reading', () => {
  it('reads one document, an array, or NDJSON', () => {
    expect(parseDocuments('{"a":1}', { ndjson: true, arrays: true }).documents).toEqual([
      { index: 0, value: { a: 1 } },
    ]);
    expect(parseDocuments('[1,2]', { ndjson: true, arrays: true }).documents.map((d) => d.value)).toEqual([
      1, 2,
    ]);
    expect(parseDocuments('[1,2]', { ndjson: false, arrays: false }).documents).toEqual([
      { index: 0, value: [1, 2] },
    ]);
    const lines = parseDocuments('\uFEFF{"a":1}\r\n\n{"b":2}\nbroken\n', { ndjson: true, arrays: true });
    expect(lines.documents).toEqual([
      { index: 0, value: { a: 1 } },
      { index: 1, value: { b: 2 } },
    ]);
    expect(lines.errors).toEqual([expect.objectContaining({ index: 2, code: 'invalid_json' })]);
  });

  it('refuses empty, unreadable and oversized bodies as a whole', () => {
    const code = (body: string, ndjson = true) => {
      try {
        parseDocuments(body, { ndjson, arrays: true });
      } catch (error) {
        expect(error).toBeInstanceOf(UserError);
        return (error as UserError).code;
      }
      return 'no error';
    };
    expect(code('  \n')).toBe('empty_body');
    expect(code('garbage\nmore garbage')).toBe('invalid_json');
    expect(code('{"a":1}\n{"b":2}', false)).toBe('invalid_json');
    expect(code(JSON.stringify(Array(MAX_ITEMS + 1).fill(0)))).toBe('too_many_items');
    expect(code('1\n'.repeat(MAX_ITEMS + 1))).toBe('too_many_items');
  });

  it('reads the times senders write', () => {
    expect(toIsoTime('2026-03-01T08:15:42.123456+0000')).toBe('2026-03-01T08:15:42.123Z');
    expect(toIsoTime('2018-08-03T09:52:26.739266876+02:00')).toBe('2018-08-03T07:52:26.739Z');
    expect(toIsoTime('2026-03-01 08:15:42')).toBe('2026-03-01T08:15:42.000Z');
    expect(toIsoTime(1772355600)).toBe('2026-03-01T09:00:00.000Z');
    expect(toIsoTime(1772355600123)).toBe('2026-03-01T09:00:00.123Z');
    for (const unset of [
      '0001-01-01T00:00:00Z',
      '1',
      'yesterday',
      '2026-13-45T99:00:00Z',
      '',
      -5,
      null,
      {},
    ]) {
      expect(toIsoTime(unset)).toBeUndefined();
    }
  });

  it('measures depth without recursion', () => {
    expect(withinDepth({ a: [{ b: 1 }] }, 3)).toBe(true);
    expect(withinDepth({ a: [{ b: {} }] }, 3)).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    expect(withinDepth(deep)).toBe(false);
  });
});
