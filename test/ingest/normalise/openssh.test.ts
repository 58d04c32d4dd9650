import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseOpensshMessage, type Fields } from '../../../src/ingest/normalise/index.js';
import { FUZZ_RUNS, anyText, buildReceived, expectFieldValues, expectShape, prefixed } from './support.js';

function sshd(message: string, host = 'bastion'): Readonly<Record<string, unknown>> {
  const e = normalise(buildReceived(`<38>Nov 19 07:01:02 ${host} sshd[4242]: ${message}`));
  expect(e.parser).toBe('openssh');
  return e.fields;
}

const LOGIN_CONTRACT = {
  'event.category': ['authentication'],
  'event.action': 'ssh_login',
  'process.name': 'sshd',
  'event.dataset': 'openssh',
  'host.name': 'bastion',
};

describe('OpenSSH logins (the detection contract)', () => {
  it('Failed password', () => {
    expect(sshd('Failed password for root from 203.0.113.7 port 51234 ssh2')).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'failure',
      'user.name': 'root',
      'source.ip': '203.0.113.7',
      'source.port': 51234,
      'openssh.method': 'password',
    });
  });

  it('Failed password for an invalid user (and a name with spaces)', () => {
    const f = sshd('Failed password for invalid user oracle db from 2001:db8::7 port 40022 ssh2');
    expect(f).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'failure',
      'user.name': 'oracle db',
      'source.ip': '2001:db8::7',
      'source.port': 40022,
      'openssh.invalid_user': true,
    });
  });

  it('Accepted password and Accepted publickey', () => {
    expect(sshd('Accepted password for alice from 198.51.100.2 port 52000 ssh2')).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'success',
      'user.name': 'alice',
      'openssh.method': 'password',
    });
    const f = sshd('Accepted publickey for deploy from 198.51.100.3 port 52001 ssh2: RSA SHA256:Zm9vYmFy');
    expect(f).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'success',
      'openssh.method': 'publickey',
      'openssh.key.type': 'RSA',
      'openssh.key.fingerprint': 'SHA256:Zm9vYmFy',
    });
    expect(f['openssh.invalid_user']).toBeUndefined();
  });

  it('Failed publickey and keyboard-interactive/pam', () => {
    expect(
      sshd('Failed publickey for bob from 203.0.113.9 port 2222 ssh2: ED25519 SHA256:abc'),
    ).toMatchObject({
      'event.outcome': 'failure',
      'openssh.method': 'publickey',
      'user.name': 'bob',
    });
    expect(
      sshd('Failed keyboard-interactive/pam for invalid user x from 203.0.113.9 port 1 ssh2'),
    ).toMatchObject({
      'openssh.method': 'keyboard-interactive/pam',
      'openssh.invalid_user': true,
    });
  });

  it('Invalid user, with and without port, and with an empty name', () => {
    expect(sshd('Invalid user admin from 203.0.113.7 port 51234')).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'failure',
      'user.name': 'admin',
      'source.ip': '203.0.113.7',
      'source.port': 51234,
      'openssh.invalid_user': true,
    });
    expect(sshd('Invalid user test from 203.0.113.8')).toMatchObject({
      'user.name': 'test',
      'source.ip': '203.0.113.8',
    });
    const empty = sshd('Invalid user  from 203.0.113.9 port 1');
    expect(empty['source.ip']).toBe('203.0.113.9');
    expect(empty['user.name']).toBeUndefined();
  });

  it('PAM authentication failures', () => {
    expect(
      sshd(
        'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root',
      ),
    ).toMatchObject({
      ...LOGIN_CONTRACT,
      'event.outcome': 'failure',
      'user.name': 'root',
      'source.ip': '203.0.113.7',
      'openssh.method': 'pam',
    });
    const noUser = sshd(
      'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=evil.example',
    );
    expect(noUser['source.domain']).toBe('evil.example');
    expect(noUser['user.name']).toBeUndefined();
  });

  it('sshd-session (OpenSSH 9.8+) counts as sshd', () => {
    const e = normalise(
      buildReceived(
        'Nov 19 07:01:02 bastion sshd-session[9]: Failed password for root from 203.0.113.7 port 1 ssh2',
      ),
    );
    expect(e.fields).toMatchObject({
      'process.name': 'sshd',
      'event.action': 'ssh_login',
      'log.syslog.appname': 'sshd-session',
    });
  });
});

describe('OpenSSH disconnects', () => {
  it.each([
    ['Connection closed by authenticating user root 203.0.113.7 port 51234 [preauth]', 'root', false],
    ['Connection closed by invalid user admin 203.0.113.7 port 51234 [preauth]', 'admin', true],
    ['Disconnected from user alice 203.0.113.7 port 51234', 'alice', false],
    ['Disconnected from authenticating user root 203.0.113.7 port 51234 [preauth]', 'root', false],
  ])('%s', (message, user, invalid) => {
    const f = sshd(message);
    expect(f).toMatchObject({
      'event.action': 'ssh_disconnect',
      'event.category': ['authentication'],
      'user.name': user,
      'source.ip': '203.0.113.7',
      'source.port': 51234,
    });
    expect(f['openssh.invalid_user']).toBe(invalid ? true : undefined);
  });

  it('Connection closed by an address only, and Received disconnect with a reason', () => {
    const f = sshd('Connection closed by 203.0.113.7 port 51234 [preauth]');
    expect(f).toMatchObject({
      'event.action': 'ssh_disconnect',
      'source.ip': '203.0.113.7',
      'openssh.preauth': true,
    });
    expect(f['user.name']).toBeUndefined();
    expect(sshd('Received disconnect from 203.0.113.7 port 51234:11: Bye Bye [preauth]')).toMatchObject({
      'event.action': 'ssh_disconnect',
      'openssh.disconnect.code': 11,
      'openssh.disconnect.reason': 'Bye Bye',
    });
  });

  it('leaves other sshd lines without an action but in the openssh dataset', () => {
    const f = sshd('Server listening on 0.0.0.0 port 22.');
    expect(f['event.action']).toBeUndefined();
    expect(f['event.dataset']).toBe('openssh');
    expect(f['message']).toBe('Server listening on 0.0.0.0 port 22.');
  });
});

describe('OpenSSH fuzz', () => {
  const prefixes = [
    'Failed password for ',
    'Failed password for invalid user ',
    'Accepted publickey for a from ',
    'Invalid user ',
    'Connection closed by authenticating user ',
    'Disconnected from ',
    'Received disconnect from 1.2.3.4 port ',
    'pam_unix(sshd:auth): authentication failure;',
    'pam_unix(sshd:session): session opened for user ',
    'Connection from ',
  ];
  it('never throws and only writes scalar fields', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, prefixed(prefixes)), (message) => {
        const fields: Fields = {};
        parseOpensshMessage(message, fields);
        expectFieldValues(fields);
        expect(fields['event.dataset']).toBe('openssh');
        expectShape(normalise(buildReceived(`Nov 19 07:01:02 h sshd[1]: ${message}`, 'syslog')));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
