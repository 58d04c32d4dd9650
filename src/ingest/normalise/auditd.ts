/**
 * Linux audit records: `[node=H ]type=T msg=audit(SECONDS.MS:SEQ): k=v k="v" ... msg='k=v ...'`, also
 * the kernel's syslog form `audit: type=1400 audit(...): ...`. Hand-scanned key=value pairs; quoted
 * values are literal, unquoted hex in the fields audit encodes (`proctitle`, `name`, `cwd`, EXECVE
 * `aN`, ...) is decoded to UTF-8.
 */
import { addTag, isHex, put, parseUint, putAddress, type Fields, type Parsed } from './fields.js';

const MAX_PAIRS = 256;

/** Fields audit writes hex-encoded when the value holds spaces, quotes or control characters. */
const ENCODED = new Set([
  'proctitle',
  'name',
  'cwd',
  'comm',
  'exe',
  'path',
  'acct',
  'data',
  'cmd',
  'dir',
  'file',
  'key',
  'old-chardev',
  'new-chardev',
  'watch',
  'vm',
  'root_dir',
  'old_prom',
]);

const AUTH_TYPES = new Set([
  'USER_AUTH',
  'USER_LOGIN',
  'USER_LOGOUT',
  'USER_ACCT',
  'USER_ERR',
  'USER_START',
  'USER_END',
  'CRED_ACQ',
  'CRED_DISP',
  'CRED_REFR',
  'LOGIN',
]);
const IAM_TYPES = new Set([
  'ADD_USER',
  'DEL_USER',
  'ADD_GROUP',
  'DEL_GROUP',
  'USER_MGMT',
  'GRP_MGMT',
  'USER_CHAUTHTOK',
  'ACCT_LOCK',
  'ACCT_UNLOCK',
]);
const PROCESS_TYPES = new Set(['EXECVE', 'PROCTITLE', 'USER_CMD']);
const CONFIG_TYPES = new Set([
  'CONFIG_CHANGE',
  'DAEMON_START',
  'DAEMON_END',
  'DAEMON_CONFIG',
  'SERVICE_START',
  'SERVICE_STOP',
]);

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes hex text to UTF-8 (NUL separators of proctitle become spaces). */
function hexDecode(hex: string): string {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return utf8.decode(bytes.subarray(0, end)).replace(/\0/g, ' ');
}

function isEncodable(key: string, type: string): boolean {
  if (ENCODED.has(key)) return true;
  // EXECVE arguments a0, a1, ... (in SYSCALL records aN are register values, left as they are).
  return (
    type === 'EXECVE' && key.length > 1 && key.charCodeAt(0) === 97 && parseUint(key.slice(1)) !== undefined
  );
}

/**
 * Reads `k=v` pairs from text[start, end) into `out` (in order), calling itself once for a quoted
 * `msg='...'` payload. Separators are spaces and the group separator (0x1d) before enriched fields.
 */
function readPairs(
  text: string,
  start: number,
  end: number,
  out: [string, string, boolean][],
  depth: number,
): void {
  let p = start;
  while (p < end && out.length < MAX_PAIRS) {
    let c = text.charCodeAt(p);
    while (p < end && (c === 32 || c === 0x1d || c === 9)) c = text.charCodeAt(++p);
    if (p >= end) break;
    const k0 = p;
    while (p < end) {
      c = text.charCodeAt(p);
      if (c === 61 || c === 32 || c === 0x1d) break;
      p++;
    }
    if (text.charCodeAt(p) !== 61 || p >= end) {
      // A word without `=` (a stray token): skip it.
      continue;
    }
    const key = text.slice(k0, p);
    p++;
    const q = text.charCodeAt(p);
    if ((q === 34 || q === 39) && p < end) {
      const close = text.indexOf(q === 34 ? '"' : "'", p + 1);
      const stop = close < 0 || close >= end ? end : close;
      if (q === 39 && key === 'msg' && depth === 0) readPairs(text, p + 1, stop, out, 1);
      else out.push([key, text.slice(p + 1, stop), true]);
      p = stop + 1;
    } else {
      const v0 = p;
      while (p < end) {
        c = text.charCodeAt(p);
        if (c === 32 || c === 0x1d) break;
        p++;
      }
      out.push([key, text.slice(v0, p), false]);
    }
  }
}

/** Where `type=` starts (after an optional `node=... ` and the kernel's `audit: ` prefix), or -1. */
function typeStart(text: string): number {
  let p = 0;
  if (text.startsWith('audit: ')) p = 7;
  if (text.startsWith('node=', p)) {
    const sp = text.indexOf(' ', p);
    if (sp < 0) return -1;
    p = sp + 1;
  }
  return text.startsWith('type=', p) ? p : -1;
}

/** Whether text looks like an audit record. */
export function looksLikeAuditd(text: string): boolean {
  const p = typeStart(text);
  if (p < 0) return false;
  const a = text.indexOf('audit(', p);
  return a > 0 && a < p + 64;
}

/** A SYSCALL record of execve/execveat (enriched name, or the x86_64 / aarch64 numbers). */
function isExecve(fields: Fields): boolean {
  const name = fields['auditd.log.SYSCALL'];
  if (name === 'execve' || name === 'execveat') return true;
  const nr = fields['auditd.log.syscall'];
  const arch = fields['auditd.log.arch'];
  if (arch === 'c000003e') return nr === '59' || nr === '322';
  if (arch === 'c00000b7') return nr === '221' || nr === '281';
  return false;
}

/**
 * Pure; never throws. Parses one audit record into `auditd.log.*` and the ECS fields it implies
 * (`process.*`, `user.*`, `event.outcome`, ...). Returns undefined when the text is not an audit record.
 */
export function parseAuditd(text: string): Parsed | undefined {
  const p = typeStart(text);
  if (p < 0) return undefined;
  const fields: Fields = {};
  if (text.startsWith('node=') || text.startsWith('audit: node=')) {
    const n0 = text.indexOf('node=') + 5;
    put(fields, 'host.name', text.slice(n0, text.indexOf(' ', n0)));
  }
  const tEnd = text.indexOf(' ', p);
  if (tEnd < 0) return undefined;
  const type = text.slice(p + 5, tEnd);
  const a = text.indexOf('audit(', tEnd);
  if (a < 0 || a > tEnd + 64) return undefined;
  const close = text.indexOf(')', a);
  if (close < 0 || close - a > 40) return undefined;
  const stamp = text.slice(a + 6, close);
  const colon = stamp.indexOf(':');
  const seconds = colon < 0 ? stamp : stamp.slice(0, colon);
  const dot = seconds.indexOf('.');
  const whole = parseUint(dot < 0 ? seconds : seconds.slice(0, dot));
  const frac = dot < 0 ? 0 : (parseUint(seconds.slice(dot + 1, dot + 4).padEnd(3, '0')) ?? 0);
  const time = whole === undefined ? undefined : whole * 1000 + frac;
  put(fields, 'event.module', 'auditd');
  put(fields, 'event.dataset', 'auditd.log');
  put(fields, 'event.kind', 'event');
  put(fields, 'auditd.log.record_type', type);
  put(fields, 'event.action', type.toLowerCase());
  if (colon >= 0) put(fields, 'auditd.log.sequence', parseUint(stamp.slice(colon + 1)));
  let body = close + 1;
  if (text.charCodeAt(body) === 58) body++;
  const pairs: [string, string, boolean][] = [];
  readPairs(text, body, text.length, pairs, 0);
  if (pairs.length >= MAX_PAIRS) addTag(fields, '_auditd_truncated');
  const args: string[] = [];
  for (const [key, raw, quoted] of pairs) {
    let value = raw;
    if (!quoted && value.length >= 2 && (value.length & 1) === 0 && isEncodable(key, type) && isHex(value)) {
      value = hexDecode(value);
    }
    if (value === '?' || value === '(null)' || value === '(none)') continue;
    put(fields, `auditd.log.${key}`, value);
    if (type === 'EXECVE' && key.charCodeAt(0) === 97 && parseUint(key.slice(1)) !== undefined)
      args.push(value);
    switch (key) {
      case 'pid':
        put(fields, 'process.pid', parseUint(value));
        break;
      case 'ppid':
        put(fields, 'process.parent.pid', parseUint(value));
        break;
      case 'uid':
        put(fields, 'user.id', value);
        break;
      case 'auid':
        if (value !== '4294967295' && value !== 'unset') put(fields, 'user.audit.id', value);
        break;
      case 'euid':
        put(fields, 'user.effective.id', value);
        break;
      case 'gid':
        put(fields, 'group.id', value);
        break;
      case 'exe':
        put(fields, 'process.executable', value);
        break;
      case 'comm':
        put(fields, 'process.name', value);
        break;
      case 'proctitle':
        put(fields, 'process.title', value);
        break;
      case 'cwd':
        put(fields, 'process.working_directory', value);
        break;
      case 'acct':
        put(fields, 'user.name', value);
        break;
      case 'addr':
        putAddress(fields, 'source', value);
        break;
      case 'hostname':
        if (value !== '?' && fields['source.ip'] === undefined) putAddress(fields, 'source', value);
        break;
      case 'name':
        if (type === 'PATH') put(fields, 'file.path', value);
        break;
      case 'success':
        put(fields, 'event.outcome', value === 'yes' ? 'success' : value === 'no' ? 'failure' : undefined);
        break;
      case 'res':
        put(
          fields,
          'event.outcome',
          value === 'success' || value === '1'
            ? 'success'
            : value === 'failed' || value === '0'
              ? 'failure'
              : undefined,
        );
        break;
      case 'UID':
        if (fields['user.name'] === undefined) put(fields, 'user.name', value);
        break;
    }
  }
  if (args.length > 0) {
    put(fields, 'process.args', args);
    put(fields, 'process.command_line', args.join(' '));
  }
  if (AUTH_TYPES.has(type)) put(fields, 'event.category', ['authentication']);
  else if (IAM_TYPES.has(type)) put(fields, 'event.category', ['iam']);
  else if (PROCESS_TYPES.has(type) || (type === 'SYSCALL' && isExecve(fields)))
    put(fields, 'event.category', ['process']);
  else if (CONFIG_TYPES.has(type)) put(fields, 'event.category', ['configuration']);
  return { parser: 'auditd', fields, time };
}
