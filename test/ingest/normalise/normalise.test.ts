import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractObservables, normalise, parseGenericJson } from '../../../src/ingest/normalise/index.js';
import type { ReceivedEvent } from '../../../src/ingest/event-record.js';
import { FUZZ_RUNS, RECEIVED_AT, anyText, buildReceived, expectShape } from './support.js';

describe('normalise: the envelope', () => {
  it('unknown text is kept as raw with @timestamp (the receive time), message and metadata', () => {
    const e = normalise(buildReceived('something nobody parses\r\n'));
    expectShape(e);
    expect(e.parser).toBe('raw');
    expect(e.timestamp).toBe(RECEIVED_AT);
    expect(e.fields).toMatchObject({
      '@timestamp': RECEIVED_AT,
      message: 'something nobody parses',
      'event.module': 'raw',
      'event.dataset': 'raw',
      'event.kind': 'event',
      'event.created': RECEIVED_AT,
      'log.source.address': '192.0.2.10:514',
    });
  });

  it('raw events always carry message and @timestamp, even when empty', () => {
    for (const raw of ['', '-', '   ']) {
      const e = normalise(buildReceived(raw));
      expect(e.parser).toBe('raw');
      expect(typeof e.fields['message']).toBe('string');
      expect(e.fields['@timestamp']).toBe(RECEIVED_AT);
    }
  });

  it('file sources record the file path', () => {
    const e = normalise(buildReceived('x', 'auto', { source: { kind: 'file', name: '/var/log/auth.log' } }));
    expect(e.fields['log.file.path']).toBe('/var/log/auth.log');
  });

  it('a hint that does not fit falls back to recognising the content', () => {
    expect(
      normalise(buildReceived('Nov 19 07:01:02 h sshd[1]: Invalid user a from 1.2.3.4', 'access_log')).parser,
    ).toBe('openssh');
    expect(normalise(buildReceived('plain', 'syslog')).parser).toBe('raw');
    expect(normalise(buildReceived('{"a":1}', 'cef')).parser).toBe('json');
  });

  it('an unreadable receive time gives the epoch, never a throw', () => {
    const e = normalise(buildReceived('x', 'auto', { receivedAt: 'not a time' }));
    expect(e.timestamp).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('generic JSON', () => {
  it('ECS documents, nested or dotted, come out as the same flat keys', () => {
    const nested = normalise(
      buildReceived({
        '@timestamp': '2024-11-19T07:01:02Z',
        source: { ip: '10.0.0.1' },
        event: { category: 'network', dataset: 'fw.log' },
      }),
    );
    const dotted = normalise(
      buildReceived({
        '@timestamp': '2024-11-19T07:01:02Z',
        'source.ip': '10.0.0.1',
        'event.category': ['network'],
        'event.dataset': 'fw.log',
      }),
    );
    for (const e of [nested, dotted]) {
      expectShape(e);
      expect(e.parser).toBe('json');
      expect(e.timestamp).toBe('2024-11-19T07:01:02.000Z');
      expect(e.fields).toMatchObject({
        'source.ip': '10.0.0.1',
        'event.category': ['network'],
        'event.dataset': 'fw.log',
        'event.module': 'json',
      });
    }
  });

  it('other documents are flattened as they are; arrays of objects become multi-valued keys', () => {
    const r = parseGenericJson({
      ts: 1732000000,
      user: { name: 'a', roles: ['x', 'y'] },
      answers: [{ rdata: '1.1.1.1' }, { rdata: '2.2.2.2' }],
      n: null,
    });
    expect(r.time).toBe(1732000000000);
    expect(r.fields).toMatchObject({
      'user.name': 'a',
      'user.roles': ['x', 'y'],
      'answers.rdata': ['1.1.1.1', '2.2.2.2'],
      ts: 1732000000,
    });
    expect('n' in r.fields).toBe(false);
  });

  it.each([
    [{ timestamp: '2024-11-19 07:01:02.5' }, '2024-11-19T07:01:02.500Z'],
    [{ time: 1732000000123 }, '2024-11-19T07:06:40.123Z'],
    [{ date: '2024-11-19T09:01:02+02:00' }, '2024-11-19T07:01:02.000Z'],
    [{ ts: '1732000000' }, '2024-11-19T07:06:40.000Z'],
    [{ '@timestamp': 'garbage' }, RECEIVED_AT],
  ])('time from %j', (doc, expected) => {
    expect(normalise(buildReceived(doc)).timestamp).toBe(expected);
  });

  it('__proto__ keys stay plain data and never touch prototypes', () => {
    const doc = JSON.parse('{"__proto__": {"polluted": 1}, "a": {"__proto__": "x"}}') as Record<
      string,
      unknown
    >;
    const e = normalise(buildReceived(doc));
    expectShape(e);
    expect(e.fields['__proto__.polluted']).toBe(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const text = normalise(buildReceived('{"__proto__": 5}'));
    expect(Object.getPrototypeOf(text.fields)).toBe(Object.prototype);
  });

  it('top-level arrays and scalars go under json', () => {
    expect(normalise(buildReceived('[1,2,{"a":"b"}]')).fields).toMatchObject({
      json: [1, 2],
      'json.a': ['b'],
    });
  });
});

describe('hostile input', () => {
  it('deep JSON (100,000 levels) as text and as an object', () => {
    const text = '['.repeat(100_000) + ']'.repeat(100_000);
    expectShape(normalise(buildReceived(text)));
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    const e = normalise(buildReceived(deep));
    expectShape(e);
    expect(e.fields['tags']).toContain('_flatten_truncated');
  });

  it('a gigantic line (8 MiB) stays linear and its fields are capped', () => {
    const line = `<13>Nov 19 07:01:02 h sshd[1]: Failed password for ${'a'.repeat(8 * 1024 * 1024)} from 1.2.3.4 port 1 ssh2`;
    const start = performance.now();
    const e = normalise(buildReceived(line));
    expect(performance.now() - start).toBeLessThan(2000);
    expectShape(e);
    expect((e.fields['message'] as string).length).toBe(65_536);
    expect(e.fields['tags']).toContain('_field_truncated');
    expect(e.fields['source.ip']).toBe('1.2.3.4');
  });

  it('huge documents are bounded in keys', () => {
    const doc: Record<string, number> = {};
    for (let i = 0; i < 50_000; i++) doc[`k${i}`] = i;
    const e = normalise(buildReceived(doc));
    expect(Object.keys(e.fields).length).toBeLessThan(1100);
    expect(e.fields['tags']).toContain('_flatten_truncated');
  });

  it('objects that throw on access, cycles, bigint, functions and missing envelope fields', () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        ownKeys: () => {
          throw new Error('boom');
        },
      },
    );
    const failed = normalise(buildReceived(hostile as Record<string, unknown>));
    expectShape(failed);
    expect(failed.parser).toBe('raw');
    expect(failed.fields['tags']).toEqual(['_normalise_failed']);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expectShape(normalise(buildReceived(cyclic)));
    expectShape(
      normalise(
        buildReceived({ big: 10n, fn: () => 1, sym: Symbol('x') } as unknown as Record<string, unknown>),
      ),
    );
    const broken = { raw: 'x' } as unknown as ReceivedEvent;
    expectShape(normalise(broken));
    expectShape(normalise(null as unknown as ReceivedEvent));
  });

  it('invalid UTF-8 already replaced by U+FFFD, lone surrogates and NULs', () => {
    for (const raw of [
      '\ufffd\ufffd<13>\ufffd',
      '<13>Nov 19 07:01:02 h \ud800sshd[1]: \u0000',
      '\u0000'.repeat(100),
    ]) {
      expectShape(normalise(buildReceived(raw)));
    }
  });

  it('fuzz: any text with any hint, any JSON value', () => {
    const hints = fc.constantFrom(
      'auto',
      'syslog',
      'json',
      'windows',
      'access_log',
      'cef',
      'suricata',
      'zeek',
      'auditd' as const,
    );
    fc.assert(
      fc.property(anyText, hints, (raw, format) => {
        expectShape(normalise(buildReceived(raw, format)));
      }),
      { numRuns: FUZZ_RUNS },
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), hints, (doc, format) => {
        expectShape(normalise(buildReceived(JSON.stringify(doc), format)));
        if (typeof doc === 'object' && doc !== null && !Array.isArray(doc))
          expectShape(normalise(buildReceived(doc, format)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('observables', () => {
  it('extracts and deduplicates by type and value', () => {
    expect(
      extractObservables({
        'source.ip': '203.0.113.7',
        'destination.ip': ['10.0.0.1', '203.0.113.7'],
        'client.ip': '0.0.0.0',
        'server.ip': '::',
        'user.name': 'alice',
        'user.effective.name': 'ALICE',
        'host.name': 'web01',
        'host.hostname': 'web01',
        'url.original': '/relative/path',
        'url.full': 'http://evil.example/x',
        'dns.question.name': 'evil.example',
        'url.domain': '10.0.0.1',
        'file.hash.sha256': 'a'.repeat(64),
        'file.hash.md5': 'not-a-hash',
        'process.executable': 'C:\\Windows\\cmd.exe',
        'file.path': '/tmp/x',
        'registry.path': 'HKLM\\Run\\x',
        'email.from.address': 'eve@evil.example',
        'related.hash': ['b'.repeat(40)],
      }),
    ).toEqual([
      { type: 'ip', value: '203.0.113.7' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'user', value: 'alice' },
      { type: 'host', value: 'web01' },
      { type: 'url', value: 'http://evil.example/x' },
      { type: 'domain', value: 'evil.example' },
      { type: 'hash_sha256', value: 'a'.repeat(64) },
      { type: 'hash_sha1', value: 'b'.repeat(40) },
      { type: 'process', value: 'C:\\Windows\\cmd.exe' },
      { type: 'filename', value: '/tmp/x' },
      { type: 'registry', value: 'HKLM\\Run\\x' },
      { type: 'email', value: 'eve@evil.example' },
    ]);
  });

  it('skips placeholders and non-addresses in ip fields', () => {
    expect(
      extractObservables({
        'source.ip': '-',
        'destination.ip': '1',
        'user.name': '',
        'host.name': '?',
        'client.ip': 'fe80::1%eth0',
      }),
    ).toEqual([{ type: 'ip', value: 'fe80::1%eth0' }]);
  });

  it('the normaliser fills observables', () => {
    const e = normalise(
      buildReceived(
        '<38>Nov 19 07:01:02 bastion sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2',
      ),
    );
    expect(e.observables).toEqual([
      { type: 'ip', value: '203.0.113.7' },
      { type: 'user', value: 'root' },
      { type: 'host', value: 'bastion' },
    ]);
  });
});
