import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseAccessLog } from '../../../src/ingest/normalise/index.js';
import {
  FUZZ_RUNS,
  anyText,
  buildReceived,
  expectParsed,
  expectShape,
  prefixed,
  truncations,
} from './support.js';

const COMBINED =
  '203.0.113.7 - frank [10/Oct/2024:13:55:36 -0700] "GET /wp-login.php?action=register HTTP/1.1" 404 153 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"';

describe('access log', () => {
  it('combined format: every ECS field', () => {
    const r = parseAccessLog(COMBINED);
    expect(r?.time).toBe(Date.parse('2024-10-10T20:55:36Z'));
    expect(r?.fields).toMatchObject({
      'event.dataset': 'access_log',
      'event.category': ['web'],
      'source.ip': '203.0.113.7',
      'user.name': 'frank',
      'http.request.method': 'GET',
      'url.original': '/wp-login.php?action=register',
      'url.path': '/wp-login.php',
      'url.query': 'action=register',
      'http.version': '1.1',
      'http.response.status_code': 404,
      'http.response.body.bytes': 153,
      'http.request.referrer': 'https://example.com/',
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)',
      'event.outcome': 'failure',
    });
  });

  it('common format, `-` user and bytes, success below 400', () => {
    const r = parseAccessLog('2001:db8::1 - - [01/Jan/2024:00:00:00 +0000] "POST /api HTTP/2.0" 302 -');
    expect(r?.fields).toMatchObject({
      'source.ip': '2001:db8::1',
      'http.response.status_code': 302,
      'event.outcome': 'success',
    });
    expect(r?.fields['user.name']).toBeUndefined();
    expect(r?.fields['http.response.body.bytes']).toBeUndefined();
    expect(r?.fields['http.request.referrer']).toBeUndefined();
  });

  it('escaped quotes in the request and the agent; TLS garbage as a request', () => {
    const r = parseAccessLog(
      '10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /a\\"b HTTP/1.1" 400 0 "-" "curl \\"x\\""',
    );
    expect(r?.fields['url.original']).toBe('/a"b');
    expect(r?.fields['user_agent.original']).toBe('curl "x"');
    const tls = parseAccessLog(
      '10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"',
    );
    expect(tls?.fields['http.request.method']).toBeUndefined();
    expect(tls?.fields['http.request.original']).toBe('\\x16\\x03\\x01\\x02\\x00\\x01');
  });

  it('a proxy request with an absolute URL', () => {
    const r = parseAccessLog(
      '10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET http://evil.example:8080/x?y=1 HTTP/1.1" 200 1',
    );
    expect(r?.fields).toMatchObject({ 'url.domain': 'evil.example', 'url.path': '/x', 'url.scheme': 'http' });
  });

  it('is recognised automatically and by hint', () => {
    expect(normalise(buildReceived(COMBINED)).parser).toBe('access_log');
    expect(normalise(buildReceived(COMBINED, 'access_log')).parser).toBe('access_log');
  });

  it('declines other lines', () => {
    expect(parseAccessLog('Nov 19 07:01:02 h sshd[1]: x')).toBeUndefined();
    expect(parseAccessLog('1.2.3.4 - - [bad time] "GET / HTTP/1.1" 200 1')).toBeUndefined();
  });

  it('fuzz and truncation: never throws, returns the shape', () => {
    for (const line of truncations(COMBINED)) expectParsed(parseAccessLog(line));
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          prefixed([
            '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "',
            '1.2.3.4 - u [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" ',
          ]),
        ),
        (line) => {
          expectParsed(parseAccessLog(line));
          expectShape(normalise(buildReceived(line, 'access_log')));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
