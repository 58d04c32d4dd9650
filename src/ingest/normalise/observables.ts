/**
 * Observables named by ECS fields: addresses, users, hosts, URLs, domains, hashes, executables, files,
 * registry paths and emails. Only plausible values leave (a real IP, a hex digest of the right length,
 * a domain with a dot, ...); core/observable normalises them later.
 */
import ipaddr from 'ipaddr.js';
import type { ObservableType } from '../../core/vocabulary.js';
import type { ExtractedObservable } from '../event-record.js';
import { hashKind, type Fields } from './fields.js';

/** Most observables taken from one event. */
export const MAX_OBSERVABLES = 100;

const SOURCES: ReadonlyArray<readonly [string, ObservableType]> = [
  ['source.ip', 'ip'],
  ['destination.ip', 'ip'],
  ['client.ip', 'ip'],
  ['server.ip', 'ip'],
  ['host.ip', 'ip'],
  ['related.ip', 'ip'],
  ['user.name', 'user'],
  ['user.target.name', 'user'],
  ['user.effective.name', 'user'],
  ['source.user.name', 'user'],
  ['destination.user.name', 'user'],
  ['related.user', 'user'],
  ['host.name', 'host'],
  ['host.hostname', 'host'],
  ['related.hosts', 'host'],
  ['url.full', 'url'],
  ['url.original', 'url'],
  ['dns.question.name', 'domain'],
  ['url.domain', 'domain'],
  ['destination.domain', 'domain'],
  ['source.domain', 'domain'],
  ['tls.client.server_name', 'domain'],
  ['file.hash.md5', 'hash_md5'],
  ['file.hash.sha1', 'hash_sha1'],
  ['file.hash.sha256', 'hash_sha256'],
  ['process.hash.md5', 'hash_md5'],
  ['process.hash.sha1', 'hash_sha1'],
  ['process.hash.sha256', 'hash_sha256'],
  ['related.hash', 'other'],
  ['process.executable', 'process'],
  ['process.parent.executable', 'process'],
  ['file.path', 'filename'],
  ['registry.path', 'registry'],
  ['email.from.address', 'email'],
  ['email.to.address', 'email'],
  ['email.cc.address', 'email'],
  ['email.sender.address', 'email'],
  ['user.email', 'email'],
  ['source.user.email', 'email'],
  ['destination.user.email', 'email'],
];

const EMPTY = new Set(['', '-', '?', '::', '0.0.0.0', 'n/a', 'N/A', '(null)', 'null', 'unknown']);

function hasSpace(v: string): boolean {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) <= 32) return true;
  return false;
}

/** A dotted-quad IPv4 or an IPv6 address (ipaddr's looser IPv4 forms such as `1` or `0x7f.1` are not addresses in logs). */
function isIp(v: string): boolean {
  return v.includes(':') ? ipaddr.IPv6.isValid(v) : isIpv4(v);
}

/** Dotted-quad IPv4 with each part 0-255 (hand-scanned: this runs for nearly every event). */
function isIpv4(v: string): boolean {
  const n = v.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 : v.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return parts === 4;
}

/** The value to report for `type`, or undefined when it is not plausible. */
function accept(type: ObservableType, raw: string): [ObservableType, string] | undefined {
  const v = raw.trim();
  if (EMPTY.has(v) || v.length > 2048) return undefined;
  switch (type) {
    case 'ip': {
      if (!isIp(v)) return undefined;
      // 0.0.0.0 and :: are in EMPTY; other spellings of the unspecified IPv6 address are caught here.
      if (v.includes(':') && ipaddr.parse(v).range() === 'unspecified') return undefined;
      return [type, v];
    }
    case 'domain': {
      if (v.length > 253 || !v.includes('.') || hasSpace(v) || isIp(v)) return undefined;
      return [type, v];
    }
    case 'host':
    case 'user':
      return v.length > 256 ? undefined : [type, v];
    case 'url':
      return v.includes('://') && !hasSpace(v) ? [type, v] : undefined;
    case 'hash_md5':
    case 'hash_sha1':
    case 'hash_sha256':
      return hashKind(v) === type.slice(5) ? [type, v] : undefined;
    case 'other': {
      // related.hash: typed by digest length.
      const kind = hashKind(v);
      return kind === 'md5' || kind === 'sha1' || kind === 'sha256' ? [`hash_${kind}`, v] : undefined;
    }
    case 'email':
      return v.indexOf('@') > 0 && !hasSpace(v) ? [type, v] : undefined;
    default:
      return [type, v];
  }
}

/** Dedup key: case folds where case carries no meaning. */
function dedupKey(type: ObservableType, value: string): string {
  return type === 'url' || type === 'process' || type === 'filename'
    ? `${type}\0${value}`
    : `${type}\0${value.toLowerCase()}`;
}

/**
 * Pure; never throws. The observables an event's ECS fields name, deduplicated (by type and value,
 * case-insensitively except URLs and paths), at most MAX_OBSERVABLES, in field order.
 */
export function extractObservables(fields: Readonly<Record<string, unknown>>): ExtractedObservable[] {
  const out: ExtractedObservable[] = [];
  const seen = new Set<string>();
  for (const [field, type] of SOURCES) {
    if (!Object.prototype.hasOwnProperty.call(fields, field)) continue;
    const value = (fields as Fields)[field];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item !== 'string') continue;
      const ok = accept(type, item);
      if (ok === undefined) continue;
      const key = dedupKey(ok[0], ok[1]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ type: ok[0], value: ok[1] });
      if (out.length >= MAX_OBSERVABLES) return out;
    }
  }
  return out;
}
