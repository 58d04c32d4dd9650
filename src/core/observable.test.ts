import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { normaliseObservable } from './observable.js';

describe('observable normalisation', () => {
  it.each([
    ['ip', ' 10.0.0.1 ', '10.0.0.1'],
    ['ip', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['ip', '::ffff:192.0.2.1', '192.0.2.1'],
    ['domain', 'Evil.Example.COM.', 'evil.example.com'],
    ['domain', 'bücher.example', 'xn--bcher-kva.example'],
    ['url', 'HTTP://Evil.Example/Path?q=1', 'http://evil.example/Path?q=1'],
    ['email', 'Alice@Example.ORG', 'alice@example.org'],
    ['hash_md5', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
    [
      'hash_sha256',
      'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ],
    ['user', 'CORP\\Alice', 'corp\\alice'],
    ['filename', ' Invoice.PDF.exe ', 'Invoice.PDF.exe'],
  ] as const)('%s %j → %j', (type, value, expected) => {
    expect(normaliseObservable(type, value)).toBe(expected);
  });

  it.each([
    ['ip', '10.0.0.256'],
    ['ip', 'not-an-ip'],
    ['domain', 'bad..example'],
    ['domain', '-bad.example'],
    ['url', 'not a url'],
    ['email', 'no-at-sign'],
    ['hash_md5', 'abc'],
    ['hash_sha1', 'z'.repeat(40)],
    ['other', '   '],
  ] as const)('rejects %s %j with a field-naming error', (type, value) => {
    try {
      normaliseObservable(type, value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).code).toBe('invalid_observable');
      expect((error as UserError).details.field).toBe('value');
    }
  });

  it('checks a hostile long domain in linear time', () => {
    const hostile = `${'a-'.repeat(20_000)}!`;
    const started = performance.now();
    expect(() => normaliseObservable('domain', hostile)).toThrow(UserError);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
