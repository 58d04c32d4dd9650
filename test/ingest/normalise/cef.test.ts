import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseCef, parseCefExtension } from '../../../src/ingest/normalise/index.js';
import { FUZZ_RUNS, anyText, buildReceived, expectParsed, expectShape, prefixed } from './support.js';

describe('CEF', () => {
  it('header with escaped pipes and backslashes; common extension keys to ECS', () => {
    const r = parseCef(
      'CEF:0|Acme\\|Corp|Fire\\\\Wall|2.1|4000|Port scan detected|High|rt=1732000000000 src=203.0.113.7 spt=4444 dst=10.0.0.5 dpt=22 suser=eve duser=root act=blocked proto=TCP request=http://evil.example/x fileHash=D41D8CD98F00B204E9800998ECF8427E msg=Scan from outside cs1Label=zone cs1=dmz west',
    );
    expect(r?.parser).toBe('cef');
    expect(r?.time).toBe(1732000000000);
    expect(r?.fields).toMatchObject({
      'cef.device.vendor': 'Acme|Corp',
      'cef.device.product': 'Fire\\Wall',
      'observer.vendor': 'Acme|Corp',
      'event.code': '4000',
      'cef.name': 'Port scan detected',
      'event.severity': 8,
      'source.ip': '203.0.113.7',
      'source.port': 4444,
      'destination.ip': '10.0.0.5',
      'destination.port': 22,
      'source.user.name': 'eve',
      'destination.user.name': 'root',
      'event.action': 'blocked',
      'network.transport': 'tcp',
      'url.original': 'http://evil.example/x',
      'file.hash.md5': 'd41d8cd98f00b204e9800998ecf8427e',
      message: 'Scan from outside',
      'cef.extensions.cs1': 'dmz west',
      'cef.extensions.labelled.zone': 'dmz west',
    });
  });

  it('extension values with spaces, escaped = and \\n, and unescaped = inside a value', () => {
    expect(parseCefExtension('msg=a b\\=c\\nd k2=v2 url=http://x/?a=b c=d')).toEqual([
      ['msg', 'a b=c\nd'],
      ['k2', 'v2'],
      ['url', 'http://x/?a=b'],
      ['c', 'd'],
    ]);
    expect(parseCefExtension('a=b=c')).toEqual([['a', 'b=c']]);
    expect(parseCefExtension('')).toEqual([]);
  });

  it('numeric severity, message defaults to the name, text rt', () => {
    const r = parseCef('CEF:1|V|P|1|sig|Thing happened|3|rt=Nov 19 2024 07:01:02 UTC');
    expect(r?.fields['event.severity']).toBe(3);
    expect(r?.fields['message']).toBe('Thing happened');
    expect(r?.time).toBe(Date.parse('2024-11-19T07:01:02Z'));
  });

  it('declines an incomplete header', () => {
    expect(parseCef('CEF:0|a|b|c')).toBeUndefined();
    expect(parseCef('xCEF:0|a|b|c|d|e|f|')).toBeUndefined();
  });

  it('by hint, inside syslog', () => {
    const e = normalise(buildReceived('<134>Nov 19 07:01:02 fw01 CEF:0|V|P|1|1|n|5|src=1.2.3.4', 'cef'));
    expect(e.parser).toBe('cef');
    expect(e.fields['host.name']).toBe('fw01');
  });

  it('fuzz: never throws and returns the shape', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, prefixed(['CEF:0|', 'CEF:0|a|b|c|d|e|5|', 'CEF:0|a\\|b|c|d|e|f|g|k=v\\'])),
        (line) => {
          expectParsed(parseCef(line));
          expectShape(normalise(buildReceived(line, 'cef')));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('a long run of = without spaces stays fast (no quadratic scan)', () => {
    const line = `CEF:0|a|b|c|d|e|5|k=${'x='.repeat(200_000)}`;
    const start = performance.now();
    const r = parseCef(line);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(r?.fields['cef.extensions.k']).toBeDefined();
  });
});
