import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '../../../src/ingest/event-record.js';
import { decodeSpooledEvent, encodeSpooledEvent } from '../../../src/ingest/spool/event-codec.js';

const line: ReceivedEvent = {
  id: '019a0000-0000-7000-8000-000000000001',
  orgId: '019a0000-0000-7000-8000-0000000000aa',
  receivedAt: '2026-11-27T10:00:00.000Z',
  source: { kind: 'syslog', name: 'tcp', peer: '192.0.2.7:51234' },
  format: 'syslog',
  raw: '<38>Nov 27 10:00:00 web0 sshd[1]: Failed password for root from 203.0.113.9 port 2 ssh2',
};

describe('spool event codec', () => {
  it('writes a syslog line compactly (shorter than JSON) and reads back the same event', () => {
    const body = encodeSpooledEvent(line);
    expect(body.startsWith('S\t')).toBe(true);
    expect(body.length).toBeLessThan(JSON.stringify(line).length * 0.75);
    expect(decodeSpooledEvent(body)).toEqual(line);
    // Same key order as the JSON form would give.
    expect(JSON.stringify(decodeSpooledEvent(body))).toBe(JSON.stringify(line));
  });

  it('keeps tabs, newlines and any character of the line itself', () => {
    const raw = 'a\tb\nc\r\n\u0000 "q" \\ 😀 \ud800 end\t';
    expect(decodeSpooledEvent(encodeSpooledEvent({ ...line, raw }))).toEqual({ ...line, raw });
  });

  it('falls back to JSON for everything else, and reads JSON records written before', () => {
    const others: ReceivedEvent[] = [
      { ...line, source: { kind: 'syslog', peer: '192.0.2.7:1' } }, // no listener name
      { ...line, source: { kind: 'http', name: 'api' }, format: 'json', raw: { a: 1 } },
      { ...line, format: 'auto' },
      { ...line, source: { ...line.source, name: 'tab\there' } },
      { ...line, raw: { message: 'a document' } },
      { ...line, extra: 1 } as ReceivedEvent,
    ];
    for (const event of others) {
      const body = encodeSpooledEvent(event);
      expect(body).toBe(JSON.stringify(event));
      expect(decodeSpooledEvent(body)).toEqual(event);
    }
  });

  it('refuses a damaged compact record instead of guessing', () => {
    expect(() => decodeSpooledEvent('S\tid\torg\ttime\ttcp')).toThrow(SyntaxError);
    expect(() => decodeSpooledEvent('not json')).toThrow(SyntaxError);
  });

  it('reads back exactly what it wrote, for any event', () => {
    const text = fc.string({ unit: 'binary' });
    const event = fc.record({
      id: text,
      orgId: text,
      receivedAt: text,
      source: fc.oneof(
        fc.record({ kind: fc.constant('syslog' as const), name: text, peer: text }),
        fc.record({ kind: fc.constantFrom('syslog' as const, 'http' as const), name: text }),
      ),
      format: fc.constantFrom('syslog' as const, 'json' as const),
      raw: fc.oneof(text, fc.dictionary(text, text)),
    });
    fc.assert(
      fc.property(event, (e) => {
        // What JSON would give back is the reference (lone surrogates become U+FFFD only in the file).
        expect(decodeSpooledEvent(encodeSpooledEvent(e))).toEqual(JSON.parse(JSON.stringify(e)));
      }),
      { numRuns: 2000 },
    );
  });
});
