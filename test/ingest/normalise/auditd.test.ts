import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseAuditd } from '../../../src/ingest/normalise/index.js';
import { FUZZ_RUNS, anyText, buildReceived, expectParsed, expectShape, prefixed } from './support.js';

describe('auditd', () => {
  it('SYSCALL: time, sequence, ECS process and user fields, outcome from success=', () => {
    const r = parseAuditd(
      'type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes exit=0 a0=55d5 a1=55d6 items=2 ppid=1000 pid=1234 auid=1000 uid=0 gid=0 euid=0 ses=3 tty=pts0 comm="id" exe="/usr/bin/id" subj=unconfined key="exec"',
    );
    expect(r?.parser).toBe('auditd');
    expect(r?.time).toBe(1700000000123);
    expect(r?.fields).toMatchObject({
      'event.dataset': 'auditd.log',
      'auditd.log.record_type': 'SYSCALL',
      'auditd.log.sequence': 456,
      'event.action': 'syscall',
      'event.category': ['process'],
      'event.outcome': 'success',
      'process.pid': 1234,
      'process.parent.pid': 1000,
      'process.executable': '/usr/bin/id',
      'process.name': 'id',
      'user.id': '0',
      'user.audit.id': '1000',
      'auditd.log.a0': '55d5', // register values in SYSCALL stay as written
      'auditd.log.key': 'exec',
    });
  });

  it('EXECVE: quoted and hex-encoded arguments become process.args', () => {
    const r = parseAuditd(
      'type=EXECVE msg=audit(1700000000.124:456): argc=3 a0="cat" a1=2D6E a2=2F746D702F6D792066696C65',
    );
    expect(r?.fields['process.args']).toEqual(['cat', '-n', '/tmp/my file']);
    expect(r?.fields['process.command_line']).toBe('cat -n /tmp/my file');
  });

  it('PROCTITLE: NUL-separated hex becomes the title', () => {
    const r = parseAuditd(
      'type=PROCTITLE msg=audit(1700000000.125:456): proctitle=6375726C002D73006874747073',
    );
    expect(r?.fields['process.title']).toBe('curl -s https');
  });

  it("USER_AUTH: the nested msg='...' pairs, acct, addr and res=failed", () => {
    const r = parseAuditd(
      'node=srv1 type=USER_AUTH msg=audit(1700000001.000:500): pid=2000 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg=\'op=PAM:authentication grantors=? acct="root" exe="/usr/sbin/sshd" hostname=203.0.113.7 addr=203.0.113.7 terminal=ssh res=failed\'\u001dUID="root" AUID="unset"',
    );
    expect(r?.fields).toMatchObject({
      'host.name': 'srv1',
      'event.category': ['authentication'],
      'event.outcome': 'failure',
      'user.name': 'root',
      'source.ip': '203.0.113.7',
      'auditd.log.op': 'PAM:authentication',
      'process.executable': '/usr/sbin/sshd',
      'auditd.log.UID': 'root',
    });
    expect(r?.fields['user.audit.id']).toBeUndefined(); // unset auid
    expect(r?.fields['auditd.log.grantors']).toBeUndefined(); // '?'
  });

  it('the kernel syslog form (type=1400 audit(...))', () => {
    const e = normalise(
      buildReceived(
        '<5>Nov 19 07:01:02 h1 kernel: audit: type=1400 audit(1732000000.250:88): apparmor="DENIED" operation="open" name="/etc/shadow" pid=77 comm="cat"',
      ),
    );
    expect(e.parser).toBe('auditd');
    expect(e.timestamp).toBe('2024-11-19T07:06:40.250Z');
    expect(e.fields).toMatchObject({ 'auditd.log.apparmor': 'DENIED', 'process.pid': 77, 'host.name': 'h1' });
  });

  it('returns undefined for text that is not an audit record', () => {
    expect(parseAuditd('type=foo but no stamp')).toBeUndefined();
    expect(parseAuditd('hello')).toBeUndefined();
  });

  it('fuzz: never throws and returns the shape', () => {
    const prefixes = [
      'type=SYSCALL msg=audit(1700000000.123:456): ',
      "type=USER_AUTH msg=audit(1.2:3): msg='",
      'type=EXECVE msg=audit(1:1): a0=',
      'node=x type=',
      'audit: type=1400 audit(',
    ];
    fc.assert(
      fc.property(fc.oneof(anyText, prefixed(prefixes)), (line) => {
        expectParsed(parseAuditd(line));
        expectShape(normalise(buildReceived(line, 'auditd')));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
