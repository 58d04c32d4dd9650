import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeStoredFields,
  encodeStoredFields,
  KNOWN_FIELDS,
  storedFieldName,
} from '../../src/storage/stored-fields.js';

describe('stored fields', () => {
  it('read back exactly what was stored, whatever the names (codes, tildes, __proto__)', () => {
    const name = fc.oneof(
      fc.constantFrom(...KNOWN_FIELDS),
      fc.string(),
      fc.string().map((s) => `~${s}`),
      fc.constantFrom('__proto__', '~', '~~', '~0', '~zz', 'constructor'),
    );
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string()),
    );
    fc.assert(
      fc.property(fc.dictionary(name, value), (fields) => {
        const json = encodeStoredFields(fields);
        // Same JSON as JSON.stringify would write, names aside (NaN and infinities become null).
        expect(JSON.parse(json)).toEqual(
          JSON.parse(
            JSON.stringify(
              Object.fromEntries(Object.entries(fields).map(([k, v]) => [storedFieldName(k), v])),
            ),
          ),
        );
        const back = decodeStoredFields(json);
        expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
        expect(Object.keys(back).sort()).toEqual(Object.keys(fields).sort());
        for (const key of Object.keys(fields))
          expect(back[key]).toEqual(JSON.parse(JSON.stringify({ v: fields[key] })).v);
      }),
      { numRuns: 500 },
    );
  });

  it('write every string exactly as JSON.stringify does (escapes, control characters, lone surrogates)', () => {
    const text = fc
      .array(
        fc.constantFrom(
          'a',
          ' ',
          '"',
          '\\',
          '\n',
          '\u0000',
          '\u001f',
          '\u007f',
          '\ud800',
          '\udc00',
          '😀',
          '\u2028',
          'é',
        ),
      )
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, (value) => {
        expect(encodeStoredFields({ own: value })).toBe(`{"own":${JSON.stringify(value)}}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('store well-known names as short codes, and search finds them under the code', () => {
    const json = encodeStoredFields({ 'log.syslog.facility.name': 'auth', 'my.own': 1, '~odd': 2 });
    const stored = JSON.parse(json) as Record<string, unknown>;
    const code = storedFieldName('log.syslog.facility.name');
    expect(code).toMatch(/^~[0-9a-z]{1,2}$/);
    expect(stored[code]).toBe('auth');
    expect(stored['my.own']).toBe(1);
    expect(stored['~~odd']).toBe(2);
    expect(storedFieldName('~odd')).toBe('~~odd');
  });

  it('names each well-known field once (the table is append-only: a duplicate would shadow a code)', () => {
    expect(new Set(KNOWN_FIELDS).size).toBe(KNOWN_FIELDS.length);
  });
});
