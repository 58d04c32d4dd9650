import { describe, expect, it } from 'vitest';
import { parseEventQuery } from './event-query.js';

describe('event search language', () => {
  it('reads field terms, quoted values, negation and free text', () => {
    expect(
      parseEventQuery(
        'source.ip:10.0.0.1 user.name:"John Smith" -event.outcome:success sshd "failed password"',
      ),
    ).toEqual([
      { kind: 'field', field: 'source.ip', value: '10.0.0.1', negated: false },
      { kind: 'field', field: 'user.name', value: 'John Smith', negated: false },
      { kind: 'field', field: 'event.outcome', value: 'success', negated: true },
      { kind: 'text', text: 'sshd', negated: false },
      { kind: 'text', text: 'failed password', negated: false },
    ]);
  });

  it('treats a colon after characters a field cannot hold as text', () => {
    expect(parseEventQuery('C:/x/y:z')).toEqual([
      { kind: 'field', field: 'C', value: '/x/y:z', negated: false },
    ]);
    expect(parseEventQuery('/etc/passwd:1')).toEqual([
      { kind: 'text', text: '/etc/passwd:1', negated: false },
    ]);
    expect(parseEventQuery('@timestamp:2026*')[0]).toMatchObject({ field: '@timestamp', value: '2026*' });
  });

  it('names q in its errors', () => {
    expect(() => parseEventQuery('user.name:"open')).toThrow(/q: a quoted value is not closed/);
    expect(() => parseEventQuery('user.name:')).toThrow(/no value/);
    expect(() => parseEventQuery(Array.from({ length: 21 }, (_, k) => `w${k}`).join(' '))).toThrow(
      /at most 20/,
    );
  });

  it('an empty query has no terms', () => {
    expect(parseEventQuery('   ')).toEqual([]);
  });
});
