/**
 * OpenSSH server (sshd, sshd-session) messages. Hand-scanned: user names may contain spaces, so the
 * address is found from the right (`lastIndexOf(' from ')`), never with a backtracking pattern.
 *
 * Contract (detection rules depend on it): logins give `event.category: ['authentication']`,
 * `event.action: 'ssh_login'`, `event.outcome`, `user.name`, `source.ip`, `source.port`,
 * `process.name: 'sshd'`, `event.dataset: 'openssh'`, `openssh.method`, `openssh.invalid_user`;
 * disconnects give `event.action: 'ssh_disconnect'`.
 */
import { put, putAddress, parseUint, type Fields } from './fields.js';

/** Whether a syslog app name is the OpenSSH server. */
export function isSshdApp(app: string): boolean {
  return app === 'sshd' || app === 'sshd-session' || app === 'sshd-auth' || app.startsWith('sshd[');
}

function login(fields: Fields, outcome: 'success' | 'failure'): void {
  put(fields, 'event.kind', 'event');
  put(fields, 'event.category', ['authentication']);
  put(fields, 'event.type', ['start']);
  put(fields, 'event.action', 'ssh_login');
  put(fields, 'event.outcome', outcome);
}

function disconnect(fields: Fields): void {
  put(fields, 'event.kind', 'event');
  put(fields, 'event.category', ['authentication']);
  put(fields, 'event.type', ['end']);
  put(fields, 'event.action', 'ssh_disconnect');
}

/**
 * Reads `IP port N[ rest]` (or just `IP`) at the start of text into source.ip/domain and source.port.
 * Returns what follows the port.
 */
function addressPort(fields: Fields, text: string): string {
  const sp = text.indexOf(' ');
  const host = sp < 0 ? text : text.slice(0, sp);
  putAddress(fields, 'source', host);
  if (sp < 0) return '';
  let rest = text.slice(sp + 1);
  if (rest.startsWith('port ')) {
    let e = 5;
    while (e < rest.length && rest.charCodeAt(e) >= 48 && rest.charCodeAt(e) <= 57) e++;
    put(fields, 'source.port', parseUint(rest.slice(5, e)));
    rest = rest.slice(e);
  }
  return rest;
}

/** `[invalid user ]USER from IP port N ...`: user, invalid flag, address, the tail. */
function userFrom(fields: Fields, text: string): string | undefined {
  let rest = text;
  if (rest.startsWith('invalid user ') || rest.startsWith('illegal user ')) {
    put(fields, 'openssh.invalid_user', true);
    rest = rest.slice(13);
  }
  const at = rest.lastIndexOf(' from ');
  if (at < 0) {
    // `Invalid user  from` with an empty name has the separator at 0 after slicing.
    if (rest.startsWith('from ')) return addressPort(fields, rest.slice(5));
    return undefined;
  }
  put(fields, 'user.name', rest.slice(0, at));
  return addressPort(fields, rest.slice(at + 6));
}

/** `[authenticating |invalid ]user USER IP port N` or `IP port N` (disconnect messages). */
function disconnectTarget(fields: Fields, text: string): void {
  let rest = text;
  if (rest.startsWith('authenticating user ')) {
    rest = rest.slice(20);
  } else if (rest.startsWith('invalid user ')) {
    put(fields, 'openssh.invalid_user', true);
    rest = rest.slice(13);
  } else if (rest.startsWith('user ')) {
    rest = rest.slice(5);
  } else {
    addressPort(fields, rest);
    return;
  }
  const port = rest.lastIndexOf(' port ');
  const head = port < 0 ? rest : rest.slice(0, port);
  const sp = head.lastIndexOf(' ');
  if (sp < 0) {
    addressPort(fields, rest);
    return;
  }
  put(fields, 'user.name', head.slice(0, sp));
  addressPort(fields, rest.slice(sp + 1));
}

/** `k=v k2= k3=v3` after a PAM message's `; `. */
function pamPairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/**
 * Pure; never throws. Adds the fields of one sshd message to `fields` (which holds the syslog header's).
 * Every sshd line gets `event.dataset: 'openssh'` and `process.name: 'sshd'`, recognised or not.
 */
export function parseOpensshMessage(message: string, fields: Fields): void {
  put(fields, 'event.module', 'openssh');
  put(fields, 'event.dataset', 'openssh');
  put(fields, 'process.name', 'sshd');
  put(fields, 'event.kind', 'event');
  let m = message;
  if (m.startsWith('error: ')) m = m.slice(7);
  const preauth = m.endsWith(' [preauth]');
  if (preauth) {
    put(fields, 'openssh.preauth', true);
    m = m.slice(0, -10);
  }

  if (m.startsWith('Accepted ') || m.startsWith('Failed ')) {
    const accepted = m.charCodeAt(0) === 65;
    const body = m.slice(accepted ? 9 : 7);
    const forAt = body.indexOf(' for ');
    if (forAt > 0 && forAt <= 40) {
      const method = body.slice(0, forAt);
      login(fields, accepted ? 'success' : 'failure');
      put(fields, 'openssh.method', method);
      const tail = userFrom(fields, body.slice(forAt + 5));
      if (tail !== undefined) {
        const t = tail.trimStart();
        // `ssh2: RSA SHA256:...` names the key for publickey logins.
        if (t.startsWith('ssh2: ')) {
          const key = t.slice(6).split(' ');
          put(fields, 'openssh.key.type', key[0]);
          put(fields, 'openssh.key.fingerprint', key[1]);
        }
      }
      return;
    }
  }
  if (m.startsWith('Invalid user ') || m.startsWith('Illegal user ')) {
    login(fields, 'failure');
    put(fields, 'openssh.invalid_user', true);
    const rest = m.slice(13);
    const at = rest.lastIndexOf(' from ');
    if (at >= 0) {
      put(fields, 'user.name', rest.slice(0, at));
      addressPort(fields, rest.slice(at + 6));
    } else if (rest.startsWith('from ')) {
      addressPort(fields, rest.slice(5));
    } else {
      put(fields, 'user.name', rest);
    }
    return;
  }
  if (m.startsWith('Connection closed by ')) {
    disconnect(fields);
    disconnectTarget(fields, m.slice(21));
    return;
  }
  if (m.startsWith('Disconnected from ')) {
    disconnect(fields);
    disconnectTarget(fields, m.slice(18));
    return;
  }
  if (m.startsWith('Received disconnect from ')) {
    disconnect(fields);
    const rest = addressPort(fields, m.slice(25));
    // `:11: Bye Bye` carries the reason code and text.
    if (rest.startsWith(':')) {
      const colon = rest.indexOf(':', 1);
      if (colon > 0) {
        put(fields, 'openssh.disconnect.code', parseUint(rest.slice(1, colon)));
        put(fields, 'openssh.disconnect.reason', rest.slice(colon + 1).trim());
      }
    }
    return;
  }
  if (m.startsWith('Connection reset by ')) {
    disconnect(fields);
    disconnectTarget(fields, m.slice(20));
    return;
  }
  if (m.startsWith('pam_unix(sshd:auth): authentication failure;')) {
    login(fields, 'failure');
    put(fields, 'openssh.method', 'pam');
    const kv = pamPairs(m.slice(45));
    put(fields, 'user.name', kv.get('user'));
    putAddress(fields, 'source', kv.get('rhost'));
    return;
  }
  if (m.startsWith('PAM: Authentication failure for ')) {
    login(fields, 'failure');
    put(fields, 'openssh.method', 'pam');
    userFrom(fields, m.slice(32));
    return;
  }
  if (m.startsWith('maximum authentication attempts exceeded for ')) {
    put(fields, 'event.category', ['authentication']);
    put(fields, 'event.type', ['info']);
    put(fields, 'event.action', 'ssh_max_auth_attempts');
    put(fields, 'event.outcome', 'failure');
    userFrom(fields, m.slice(45));
    return;
  }
  if (m.startsWith('pam_unix(sshd:session): session ')) {
    const rest = m.slice(32);
    const opened = rest.startsWith('opened for user ');
    const closed = rest.startsWith('closed for user ');
    if (opened || closed) {
      put(fields, 'event.category', ['session']);
      put(fields, 'event.type', [opened ? 'start' : 'end']);
      put(fields, 'event.action', opened ? 'ssh_session_opened' : 'ssh_session_closed');
      let user = rest.slice(16);
      const cut = user.search(/[( ]/); // one character class: linear
      if (cut >= 0) user = user.slice(0, cut);
      put(fields, 'user.name', user);
    }
    return;
  }
  if (m.startsWith('Connection from ')) {
    put(fields, 'event.category', ['network']);
    put(fields, 'event.type', ['connection']);
    put(fields, 'event.action', 'ssh_connection');
    const rest = addressPort(fields, m.slice(16));
    if (rest.startsWith(' on ')) {
      const dest = rest.slice(4);
      const sp = dest.indexOf(' ');
      putAddress(fields, 'destination', sp < 0 ? dest : dest.slice(0, sp));
      const port = dest.indexOf(' port ');
      if (port >= 0) put(fields, 'destination.port', parseUint(dest.slice(port + 6).split(' ')[0]));
    }
    return;
  }
  if (m.startsWith('Did not receive identification string from ')) {
    put(fields, 'event.category', ['network']);
    put(fields, 'event.type', ['connection']);
    put(fields, 'event.action', 'ssh_no_identification');
    addressPort(fields, m.slice(44));
  }
}
