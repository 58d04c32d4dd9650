import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.js';
import { planRead, sniffLineFormat } from '../../../src/ingest/files/detect-format.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const plan = (name: string, head: string | Uint8Array, format?: Parameters<typeof planRead>[2]['format']) =>
  planRead(name, typeof head === 'string' ? bytes(head) : head, { gzip: false, complete: true, format });

const SYSLOG = 'Nov 27 07:40:10 web1 sshd[1201]: Failed password for root from 203.0.113.7\n';
const ACCESS = '203.0.113.7 - - [27/Nov/2025:07:40:10 +0000] "GET / HTTP/1.1" 200 162 "-" "curl"\n';

describe('planRead', () => {
  it('recognises EVTX by its signature whatever the name, and by the .evtx extension', () => {
    const evtx = new Uint8Array([...bytes('ElfFile\0'), 0, 0, 0, 0]);
    expect(plan('dump.bin', evtx)).toMatchObject({
      layout: 'evtx',
      format: 'windows',
      reason: 'EVTX signature',
    });
    expect(plan('Security.EVTX', '')).toMatchObject({ layout: 'evtx', format: 'windows' });
  });

  it('goes by the extension, looking through .gz', () => {
    expect(plan('a.json', SYSLOG)).toMatchObject({ layout: 'json', format: 'auto' });
    expect(plan('a.ndjson.gz', '')).toMatchObject({ layout: 'json', reason: 'extension .ndjson' });
    expect(plan('a.JSONL', '')).toMatchObject({ layout: 'json' });
    expect(plan('export.csv', 'a,b\n1,2\n')).toMatchObject({ layout: 'csv', format: 'auto' });
  });

  it('sniffs JSON content, but not bracketed text such as Apache error logs', () => {
    expect(plan('eve', '\n  {"event_type": "alert"}\n')).toMatchObject({
      layout: 'json',
      reason: 'content: JSON',
    });
    expect(plan('dump', '[\n {"a": 1}]')).toMatchObject({ layout: 'json' });
    expect(plan('error.log', '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] denied\n')).toMatchObject(
      {
        layout: 'lines',
        format: 'auto',
      },
    );
    expect(plan('x.log', '{not json at all\n')).toMatchObject({ layout: 'lines' });
  });

  it('sniffs the shape of text lines', () => {
    expect(plan('auth.log', SYSLOG.repeat(3))).toMatchObject({ layout: 'lines', format: 'syslog' });
    expect(plan('messages', '<34>1 2025-11-27T07:40:10.003Z web1 sshd 1201 - - hello\n')).toMatchObject({
      format: 'syslog',
    });
    expect(plan('x.log', '2025-11-27T07:40:10.123456+00:00 web1 sshd[1]: hi\n')).toMatchObject({
      format: 'syslog',
    });
    expect(plan('access.log', ACCESS.repeat(3))).toMatchObject({ format: 'access_log' });
    expect(
      plan('fw.log', 'Nov 27 07:40:10 fw CEF:0|Vendor|Product|1.0|100|Blocked|5|src=203.0.113.7\n'),
    ).toMatchObject({
      format: 'cef',
    });
    expect(
      plan('audit.log', 'type=SYSCALL msg=audit(1732693210.123:456): arch=c000003e syscall=59\n'),
    ).toMatchObject({ format: 'auditd' });
    expect(plan('notes.txt', 'just some words\nand more words\n')).toMatchObject({
      layout: 'lines',
      format: 'auto',
    });
  });

  it('needs a majority of lines to agree, and ignores a last line cut by the sample', () => {
    expect(sniffLineFormat(`${SYSLOG}free text\nmore text\n`, true)).toBe('auto');
    expect(sniffLineFormat(`${SYSLOG}${SYSLOG}free text\n`, true)).toBe('syslog');
    expect(sniffLineFormat(`garbage\n${ACCESS.slice(0, 20)}`, false)).toBe('auto');
    expect(sniffLineFormat(`${ACCESS}garbage garbage`, false)).toBe('access_log');
  });

  it('lets --format override detection, choosing the layout it implies', () => {
    expect(plan('a.json', '{"a":1}\n', 'syslog')).toMatchObject({
      layout: 'lines',
      format: 'syslog',
      reason: '--format syslog',
    });
    expect(plan('events.txt', '{"a":1}\n', 'windows')).toMatchObject({ layout: 'json', format: 'windows' });
    expect(plan('Security.evtx', '', 'windows')).toMatchObject({ layout: 'evtx', format: 'windows' });
    expect(plan('export.txt', 'a,b\n1,2\n', 'csv')).toMatchObject({ layout: 'csv', format: 'auto' });
    expect(plan('eve.log', '{"a":1}\n', 'suricata')).toMatchObject({ layout: 'json', format: 'suricata' });
    expect(plan('conn.log', '#separator \\x09\n', 'zeek')).toMatchObject({ layout: 'lines', format: 'zeek' });
    expect(plan('x.log', SYSLOG, 'auto')).toMatchObject({ layout: 'lines', format: 'auto' });
  });

  it('refuses binary content of no known format unless --format says', () => {
    const binary = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]);
    let error: unknown;
    try {
      plan('a.out', binary);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('ingest_binary_file');
    expect(plan('a.out', binary, 'syslog')).toMatchObject({ layout: 'lines' });
  });
});
