import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseSudoMessage, type Fields } from '../../../src/ingest/normalise/index.js';
import { FUZZ_RUNS, anyText, buildReceived, expectFieldValues, expectShape, prefixed } from './support.js';

function sudo(message: string): Readonly<Record<string, unknown>> {
  const e = normalise(buildReceived(`Nov 19 07:01:02 web01 sudo: ${message}`));
  expect(e.parser).toBe('sudo');
  return e.fields;
}

describe('sudo', () => {
  it('a command run as root', () => {
    expect(
      sudo('   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx'),
    ).toMatchObject({
      'event.dataset': 'sudo',
      'event.action': 'sudo',
      'event.outcome': 'success',
      'user.name': 'alice',
      'user.effective.name': 'root',
      'process.working_directory': '/home/alice',
      'process.command_line': '/usr/bin/systemctl restart nginx',
      'sudo.tty': 'pts/0',
    });
  });

  it('keeps semicolons inside the command', () => {
    expect(
      sudo('bob : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c id ; whoami')['process.command_line'],
    ).toBe('/bin/sh -c id ; whoami');
  });

  it('incorrect password attempts and NOT in sudoers are failures', () => {
    expect(
      sudo(
        'alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id',
      ),
    ).toMatchObject({
      'event.outcome': 'failure',
      'event.category': ['process', 'authentication'],
      'sudo.failure': '3 incorrect password attempts',
      'user.name': 'alice',
    });
    expect(
      sudo('mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash'),
    ).toMatchObject({
      'event.outcome': 'failure',
      'user.name': 'mallory',
      'process.command_line': '/bin/bash',
    });
  });

  it('PAM lines: authentication failure and session opened', () => {
    expect(
      sudo(
        'pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice',
      ),
    ).toMatchObject({ 'event.action': 'sudo_auth', 'event.outcome': 'failure', 'user.name': 'alice' });
    expect(
      sudo('pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)'),
    ).toMatchObject({
      'event.action': 'sudo_session_opened',
      'user.effective.name': 'root',
      'user.name': 'alice',
    });
  });

  it('other sudo lines keep their message without an action', () => {
    const f = sudo('unable to resolve host web01: Name or service not known');
    expect(f['event.action']).toBeUndefined();
    expect(f['message']).toBe('unable to resolve host web01: Name or service not known');
  });

  it('fuzz: never throws and only writes scalar fields', () => {
    const prefixes = [
      'alice : TTY=',
      'a : 3 incorrect password attempts ; ',
      'x : COMMAND=',
      'pam_unix(sudo:session): session opened for user ',
    ];
    fc.assert(
      fc.property(fc.oneof(anyText, prefixed(prefixes)), (message) => {
        const fields: Fields = {};
        parseSudoMessage(message, fields);
        expectFieldValues(fields);
        expectShape(normalise(buildReceived(`Nov 19 07:01:02 h sudo: ${message}`)));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
