import { describe, expect, it } from 'vitest';
import { parseEventQuery } from '../../src/core/event-query.js';
import { addTerm, fieldTerm } from '../../web/src/event-terms.js';

describe('event search terms built by the console', () => {
  it('writes plain values bare and quotes the rest so the server reads back the same value', () => {
    expect(fieldTerm('user.name', 'alice')).toBe('user.name:alice');
    for (const value of ['a value', 'say "hi"', 'back\\slash', '-dash', 'tab\there']) {
      const [term] = parseEventQuery(fieldTerm('message', value));
      expect(term).toEqual({ kind: 'field', field: 'message', value, negated: false });
    }
  });

  it('appends a term once', () => {
    expect(addTerm('', 'a:b')).toBe('a:b');
    expect(addTerm(' x:y ', 'a:b')).toBe('x:y a:b');
    expect(addTerm('x:y a:b', 'a:b')).toBe('x:y a:b');
  });
});
