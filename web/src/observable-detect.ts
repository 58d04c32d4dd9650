/**
 * Which values in an event are worth capturing as observables, and as what type. Pure; works on the
 * field name (ECS names and common vendor spellings) first and the value's shape second. Values over
 * 2,048 characters are never offered.
 */
import type { ObservableType } from './api.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]{2,45}$/i;
const MD5 = /^[0-9a-f]{32}$/i;
const SHA1 = /^[0-9a-f]{40}$/i;
const SHA256 = /^[0-9a-f]{64}$/i;
const EMAIL = /^[^\s@]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$/i;
const DOMAIN = /^([a-z0-9-]{1,63}\.){1,10}[a-z]{2,63}$/i;
const URL_START = /^(https?|ftp):\/\/[^\s]+$/i;

function isIp(value: string): boolean {
  if (IPV4.test(value)) return true;
  return value.includes(':') && value.split(':').length >= 3 && IPV6.test(value);
}

function byValue(value: string): ObservableType | null {
  if (isIp(value)) return 'ip';
  if (SHA256.test(value)) return 'hash_sha256';
  if (SHA1.test(value)) return 'hash_sha1';
  if (MD5.test(value)) return 'hash_md5';
  if (URL_START.test(value)) return 'url';
  if (EMAIL.test(value)) return 'email';
  if (DOMAIN.test(value) && !/^\d+(\.\d+)*$/.test(value)) return 'domain';
  return null;
}

/** The last one or two path segments, lower case: `source.ip`, `ip`, `user.name`. */
function keyType(path: readonly string[]): ObservableType | null {
  const last = (path.at(-1) ?? '').toLowerCase();
  const parent = (path.at(-2) ?? '').toLowerCase();
  const pair = `${parent}.${last}`;
  if (/(^|_)(ip|ipaddr|ip_address|src_ip|dst_ip|srcip|dstip)$/.test(last) || pair.endsWith('.ip'))
    return 'ip';
  if (['md5'].includes(last)) return 'hash_md5';
  if (['sha1'].includes(last)) return 'hash_sha1';
  if (['sha256'].includes(last)) return 'hash_sha256';
  if (
    pair === 'user.name' ||
    ['user', 'username', 'user_name', 'account', 'targetusername', 'subjectusername'].includes(last)
  )
    return 'user';
  if (
    pair === 'host.name' ||
    pair === 'host.hostname' ||
    ['host', 'hostname', 'computer', 'workstationname'].includes(last)
  )
    return 'host';
  if (pair === 'question.name' || ['domain', 'registered_domain', 'query', 'fqdn'].includes(last))
    return 'domain';
  if (pair === 'url.full' || last === 'url') return 'url';
  if (pair === 'file.name' || last === 'filename') return 'filename';
  if (pair === 'process.name' || pair === 'process.executable' || last === 'image') return 'process';
  if (last === 'email' || pair === 'user.email') return 'email';
  return null;
}

/** The observable type of `value` found at `path` in an event, or null when it is not one. */
export function detectObservable(path: readonly string[], value: unknown): ObservableType | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  if (text.length < 2 || text.length > 2048) return null;
  const fromKey = keyType(path);
  const fromValue = byValue(text);
  if (fromKey === 'ip') return fromValue === 'ip' ? 'ip' : null;
  if (fromKey?.startsWith('hash_')) return fromValue === fromKey ? fromKey : null;
  if (fromKey) return typeof value === 'string' ? fromKey : null;
  return fromValue;
}
