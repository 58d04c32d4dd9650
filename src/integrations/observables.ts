/**
 * Pure helpers that turn values senders write (`host:port`, a URL, a DNS name) into observables as
 * written. The service normalises them with core/observable and skips the ones that are not valid.
 */
import ipaddr from 'ipaddr.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import type { ObservableType } from '../core/vocabulary.js';
import { text } from './common.js';

/** An IP address observable when the value is one, else a host name of the given type. */
export function addressOrName(value: unknown, nameType: ObservableType = 'domain'): ExtractedObservable[] {
  const v = text(value);
  if (v === undefined || v.length > 1024) return [];
  if (ipaddr.isValid(v)) return [{ type: 'ip', value: v }];
  return [{ type: nameType, value: v }];
}

/**
 * `10.0.0.5:9100`, `[2001:db8::1]:443`, `node-3:9100`, `https://example.org/probe` → the address or
 * host name (and the URL when it is one). Prometheus `instance` labels take all these forms.
 */
export function fromEndpoint(value: unknown): ExtractedObservable[] {
  const v = text(value);
  if (v === undefined || v.length > 2048) return [];
  if (/^[a-z][a-z0-9+.-]{0,20}:\/\//i.test(v)) {
    try {
      const url = new URL(v);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      return [{ type: 'url', value: v }, ...addressOrName(host, 'domain')];
    } catch {
      return [];
    }
  }
  if (ipaddr.isValid(v)) return [{ type: 'ip', value: v }];
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i.exec(v);
  if (bracketed) return addressOrName(bracketed[1], 'host');
  const hostPort = /^([^:\s]+):\d{1,5}$/.exec(v);
  return addressOrName(hostPort ? hostPort[1] : v, 'host');
}

/** One observable per value of an array (or the single value), of a fixed type. */
export function each(type: ObservableType, value: unknown): ExtractedObservable[] {
  const values = Array.isArray(value) ? value : [value];
  const out: ExtractedObservable[] = [];
  for (const item of values.slice(0, 100)) {
    const v = text(item);
    if (v !== undefined) out.push({ type, value: v });
  }
  return out;
}
