/**
 * sudo messages: `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`, with an
 * optional failure reason before the pairs (`3 incorrect password attempts ; ...`, `user NOT in
 * sudoers ; ...`), and the PAM lines sudo logs. Hand-scanned (split on ` ; `); `COMMAND=` is last and
 * keeps everything after it, semicolons included.
 */
import { put, type Fields } from './fields.js';

/** Reasons sudo writes before the pairs when it refuses a command. */
const FAILURE_MARKERS = [
  'incorrect password attempt',
  'NOT in sudoers',
  'command not allowed',
  'a password is required',
  'user NOT authorized on host',
  'authentication failure',
] as const;

/**
 * Pure; never throws. Adds the fields of one sudo message to `fields`. Every sudo line gets
 * `event.dataset: 'sudo'`; command lines get `event.action: 'sudo'`, `user.name` (the invoker),
 * `user.effective.name` (the target), `process.command_line`, `process.working_directory` and
 * `event.outcome` (failure when sudo refused).
 */
export function parseSudoMessage(message: string, fields: Fields): void {
  put(fields, 'event.module', 'sudo');
  put(fields, 'event.dataset', 'sudo');
  put(fields, 'event.kind', 'event');
  const m = message.trimStart();
  if (m.startsWith('pam_unix(sudo:auth): authentication failure;')) {
    put(fields, 'event.category', ['authentication']);
    put(fields, 'event.type', ['start']);
    put(fields, 'event.action', 'sudo_auth');
    put(fields, 'event.outcome', 'failure');
    for (const part of m.slice(45).split(' ')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.slice(0, eq);
      const value = part.slice(eq + 1);
      if (key === 'logname' || key === 'ruser') put(fields, 'user.name', value);
      else if (key === 'user') put(fields, 'user.effective.name', value);
    }
    return;
  }
  if (m.startsWith('pam_unix(sudo:session): session ')) {
    const rest = m.slice(32);
    const opened = rest.startsWith('opened for user ');
    if (opened || rest.startsWith('closed for user ')) {
      put(fields, 'event.category', ['session']);
      put(fields, 'event.type', [opened ? 'start' : 'end']);
      put(fields, 'event.action', opened ? 'sudo_session_opened' : 'sudo_session_closed');
      const target = rest.slice(16).split(/[( ]/, 1)[0]; // one character class: linear
      put(fields, 'user.effective.name', target);
      const by = rest.indexOf(' by ');
      if (by >= 0) put(fields, 'user.name', rest.slice(by + 4).split(/[( ]/, 1)[0]);
    }
    return;
  }
  const sep = m.indexOf(' : ');
  if (sep <= 0 || sep > 256) return;
  const user = m.slice(0, sep);
  if (user.includes(' ')) return;
  const body = m.slice(sep + 3);
  const cmdAt = body.indexOf('COMMAND=');
  const head = cmdAt >= 0 ? body.slice(0, cmdAt) : body;
  let failure: string | undefined;
  let pairs = 0;
  for (const raw of head.split(' ; ')) {
    const part = raw.trim();
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq) : '';
    if (key.length > 0 && /^[A-Z]+$/.test(key)) {
      // Keys are upper-case letters only (one class, anchored: linear).
      pairs++;
      const value = part.slice(eq + 1);
      if (key === 'TTY') put(fields, 'sudo.tty', value);
      else if (key === 'PWD') put(fields, 'process.working_directory', value);
      else if (key === 'USER') put(fields, 'user.effective.name', value);
      else if (key === 'GROUP') put(fields, 'group.effective.name', value);
      else if (key === 'ENV') put(fields, 'sudo.env', value);
      else if (key === 'TSID') put(fields, 'sudo.tsid', value);
      else put(fields, `sudo.${key.toLowerCase()}`, value);
    } else if (FAILURE_MARKERS.some((marker) => part.includes(marker))) {
      failure = part;
    } else {
      put(fields, 'sudo.message', part);
    }
  }
  if (cmdAt < 0 && pairs === 0 && failure === undefined) return;
  put(fields, 'user.name', user);
  put(fields, 'event.category', failure !== undefined ? ['process', 'authentication'] : ['process']);
  put(fields, 'event.type', ['start']);
  put(fields, 'event.action', 'sudo');
  put(fields, 'event.outcome', failure !== undefined ? 'failure' : 'success');
  put(fields, 'sudo.failure', failure);
  if (cmdAt >= 0) {
    const command = body.slice(cmdAt + 8);
    put(fields, 'process.command_line', command);
  }
}
