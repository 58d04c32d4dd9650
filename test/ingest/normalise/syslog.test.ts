import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseSyslogHeader, parseSyslogLine } from '../../../src/ingest/normalise/index.js';
import {
  FUZZ_RUNS,
  anyText,
  buildReceived,
  expectParsed,
  expectShape,
  prefixed,
  truncations,
} from './support.js';

const ctx = { receivedAt: Date.parse('2024-11-20T08:30:00Z') };

describe('RFC 5424', () => {
  it('reads every header part, fractions and offsets in the time', () => {
    const h = parseSyslogHeader(
      "<34>1 2024-11-19T22:14:15.003456+02:00 mymachine.example.com su 1234 ID47 - BOM'su root' failed",
      ctx,
    );
    expect(h?.time).toBe(Date.parse('2024-11-19T20:14:15.003Z'));
    expect(h?.fields).toMatchObject({
      'log.syslog.priority': 34,
      'log.syslog.facility.code': 4,
      'log.syslog.facility.name': 'auth',
      'log.syslog.severity.code': 2,
      'log.syslog.severity.name': 'Critical',
      'log.syslog.version': '1',
      'host.hostname': 'mymachine.example.com',
      'host.name': 'mymachine.example.com',
      'log.syslog.appname': 'su',
      'process.name': 'su',
      'log.syslog.procid': '1234',
      'process.pid': 1234,
      'log.syslog.msgid': 'ID47',
    });
    expect(h?.message).toBe("BOM'su root' failed");
  });

  it('reads structured data with the three escapes and strips the BOM', () => {
    const h = parseSyslogHeader(
      '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [ex@32473 iut="3" src="a\\"b\\\\c\\]d" keep="x\\y"][meta seq="1" seq="2"] \uFEFFevent text',
      ctx,
    );
    expect(h?.fields['log.syslog.structured_data.ex@32473.iut']).toBe('3');
    expect(h?.fields['log.syslog.structured_data.ex@32473.src']).toBe('a"b\\c]d');
    expect(h?.fields['log.syslog.structured_data.ex@32473.keep']).toBe('x\\y');
    expect(h?.fields['log.syslog.structured_data.meta.seq']).toEqual(['1', '2']);
    expect(h?.message).toBe('event text');
    expect(h?.fields['process.pid']).toBeUndefined();
  });

  it('accepts nil values everywhere and an absent message', () => {
    const h = parseSyslogHeader('<13>1 - - - - - -', ctx);
    expect(h?.time).toBeUndefined();
    expect(h?.message).toBe('');
    expect(h?.fields['host.name']).toBeUndefined();
    expect(h?.fields['log.syslog.severity.name']).toBe('Notice');
  });

  it('keeps the rest as message and tags malformed structured data', () => {
    const h = parseSyslogHeader('<13>1 2024-01-01T00:00:00Z h a - - [broken "x"] tail', ctx);
    expect(h?.fields['tags']).toEqual(['_syslog_structured_data_invalid']);
    expect(h?.message).toBe('[broken "x"] tail');
  });
});

describe('RFC 3164 and auth.log lines', () => {
  it('reads PRI, timestamp, hostname and tag[pid]', () => {
    const h = parseSyslogHeader(
      '<86>Nov 19 07:01:02 bastion CRON[991]: pam_unix(cron:session): session opened',
      ctx,
    );
    expect(h?.time).toBe(Date.parse('2024-11-19T07:01:02Z'));
    expect(h?.appName).toBe('CRON');
    expect(h?.fields).toMatchObject({
      'host.name': 'bastion',
      'process.pid': 991,
      'log.syslog.facility.name': 'authpriv',
    });
    expect(h?.message).toBe('pam_unix(cron:session): session opened');
  });

  it('reads lines without PRI and with a space-padded day', () => {
    const h = parseSyslogHeader(
      'Nov  4 10:00:01 web01 systemd-logind[512]: New session 7 of user alice.',
      ctx,
    );
    expect(h?.time).toBe(Date.parse('2024-11-04T10:00:01Z'));
    expect(h?.fields['log.syslog.priority']).toBeUndefined();
    expect(h?.appName).toBe('systemd-logind');
  });

  it('takes the year that puts the time nearest the receive time (December line received in January)', () => {
    const jan = { receivedAt: Date.parse('2025-01-01T00:05:00Z') };
    expect(parseSyslogHeader('Dec 31 23:59:58 h app: x', jan)?.time).toBe(Date.parse('2024-12-31T23:59:58Z'));
    const dec = { receivedAt: Date.parse('2024-12-31T23:59:00Z') };
    expect(parseSyslogHeader('Jan  1 00:00:02 h app: x', dec)?.time).toBe(Date.parse('2025-01-01T00:00:02Z'));
  });

  it('refuses Feb 29 in a year without it (falls to the nearest leap year or none)', () => {
    const h = parseSyslogHeader('Feb 29 12:00:00 h app: x', {
      receivedAt: Date.parse('2023-03-01T00:00:00Z'),
    });
    expect(h?.time).toBe(Date.parse('2024-02-29T12:00:00Z'));
  });

  it('reads the RFC 3339 file format rsyslog writes', () => {
    const h = parseSyslogHeader('2024-05-01T12:34:56.789012+00:00 web01 sshd[1]: Connection closed', ctx);
    expect(h?.time).toBe(Date.parse('2024-05-01T12:34:56.789Z'));
    expect(h?.fields['host.name']).toBe('web01');
  });

  it('tells a tag from a host when the host is left out', () => {
    const h = parseSyslogHeader('<13>Nov 19 07:01:02 myapp[12]: hello', ctx);
    expect(h?.fields['host.name']).toBeUndefined();
    expect(h?.appName).toBe('myapp');
    expect(h?.message).toBe('hello');
  });

  it('keeps a line without a recognisable tag whole as the message', () => {
    const h = parseSyslogHeader('<13>Nov 19 07:01:02 fw01 %ASA-6-302013 built connection', ctx);
    expect(h?.fields['host.name']).toBe('fw01');
    expect(h?.appName).toBeUndefined();
    expect(h?.message).toBe('%ASA-6-302013 built connection');
  });

  it('returns undefined for a line with neither PRI nor timestamp', () => {
    expect(parseSyslogHeader('just some text', ctx)).toBeUndefined();
    expect(parseSyslogHeader('<999>Nov 19 07:01:02 h a: x', ctx)).toBeUndefined();
  });
});

describe('program dispatch', () => {
  it('hands CEF and audit payloads to their parsers and keeps the syslog host', () => {
    const cef = parseSyslogLine(
      '<134>Nov 19 07:01:02 fw01 CEF:0|Vendor|FW|1.0|100|Blocked|5|src=10.0.0.1 act=blocked',
      ctx,
    );
    expect(cef?.parser).toBe('cef');
    expect(cef?.fields).toMatchObject({
      'host.name': 'fw01',
      'source.ip': '10.0.0.1',
      'event.action': 'blocked',
    });
    const audit = parseSyslogLine(
      'Nov 19 07:01:02 h1 audisp-syslog: type=USER_AUTH msg=audit(1732000000.500:77): pid=1 uid=0 res=failed',
      ctx,
    );
    expect(audit?.parser).toBe('auditd');
    expect(audit?.time).toBe(1732000000500);
    expect(audit?.fields['event.outcome']).toBe('failure');
  });

  it('hands a Suricata JSON payload to the Suricata parser', () => {
    const r = parseSyslogLine(
      '<14>Nov 19 07:01:02 ids suricata[7]: {"timestamp":"2024-11-19T07:01:02.123456+0000","event_type":"alert","src_ip":"10.1.1.1","src_port":1,"dest_ip":"10.2.2.2","dest_port":80,"proto":"TCP","alert":{"signature":"ET X","signature_id":1,"severity":2}}',
      ctx,
    );
    expect(r?.parser).toBe('suricata');
    expect(r?.fields['rule.name']).toBe('ET X');
    expect(r?.fields['host.name']).toBe('ids');
  });

  it('keeps other JSON payloads under json.*', () => {
    const r = parseSyslogLine('<14>Nov 19 07:01:02 h app: {"a":{"b":1}}', ctx);
    expect(r?.parser).toBe('syslog');
    expect(r?.fields['json.a.b']).toBe(1);
  });
});

describe('syslog fuzz', () => {
  const prefixes = [
    '<34>1 2024-11-19T22:14:15.003Z host app 1 ID [a b="',
    '<13>1 ',
    '<13>Nov 19 07:01:02 ',
    'Nov  4 10:00:01 web01 sshd[',
    '2024-05-01T12:34:56.789012+00:00 ',
    '<191>',
    '<0>1 - - - - - [x@1 a="\\',
  ];

  it('never throws and always returns the shape', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, prefixed(prefixes)), (line) => {
        const h = parseSyslogHeader(line, ctx);
        if (h !== undefined) expect(typeof h.message).toBe('string');
        expectParsed(parseSyslogLine(line, ctx));
        expectShape(normalise(buildReceived(line, 'syslog')));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('survives every truncation of a full RFC 5424 line', () => {
    const full = '<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 [ex@1 a="x\\"y" b="z"][m c="d"] \uFEFFmsg';
    for (const line of truncations(full)) expectShape(normalise(buildReceived(line, 'syslog')));
  });
});
