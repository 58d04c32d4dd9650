import { describe, expect, it } from 'vitest';
import { genericSeverity, mapGeneric } from '../../src/integrations/generic.js';
import {
  GenericMappingSchema,
  isJsonPointer,
  mapWebhook,
  resolvePointer,
  type GenericMapping,
} from '../../src/integrations/index.js';

const context = { integrationId: 'int-4', integrationName: 'uptime', now: '2026-03-01T09:00:00.000Z' };

const mapping: GenericMapping = GenericMappingSchema.parse({
  items: '/events',
  title: '/check/name',
  severity: '/check/state',
  severity_map: { DOWN: 'critical', DEGRADED: 'medium', '3': 'low' },
  dedup_key: ['/check/id', '/host.name'],
  source: '/origin',
  description: '/check/output',
  timestamp: '/ts',
  rule: '/check/id',
  observables: [
    { type: 'host', path: '/host.name' },
    { type: 'ip', path: '/addresses' },
    { type: 'url', path: '/check/url' },
  ],
});

const post = {
  events: [
    {
      check: {
        id: 'http-42',
        name: 'Shop front page',
        state: 'DOWN',
        output: 'HTTP 503',
        url: 'https://shop.example.com/',
      },
      'host.name': 'web-02',
      addresses: ['192.0.2.10', 'not-an-ip'],
      origin: 'uptime-kuma',
      ts: 1772355600,
    },
    { check: { id: 'tcp-7', state: 3 }, 'host.name': 'db-01' },
  ],
};

describe('JSON Pointer', () => {
  it('follows RFC 6901, own properties only', () => {
    const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, 'f.g': 1 };
    expect(resolvePointer(doc, '')).toBe(doc);
    expect(resolvePointer(doc, '/a/b~1c/0')).toBe(10);
    expect(resolvePointer(doc, '/a/b~1c/1/d~0e')).toBe('x');
    expect(resolvePointer(doc, '/f.g')).toBe(1);
    expect(resolvePointer(doc, '/a/b~1c/01')).toBeUndefined();
    expect(resolvePointer(doc, '/a/b~1c/-')).toBeUndefined();
    expect(resolvePointer(doc, '/a/constructor')).toBeUndefined();
    expect(resolvePointer(doc, '/a/__proto__')).toBeUndefined();
    expect(resolvePointer('text', '/length')).toBeUndefined();
  });

  it('checks the syntax', () => {
    expect(['', '/', '/a/b', '/a~0~1'].every(isJsonPointer)).toBe(true);
    expect(['a/b', '/a~2', '/a~', `/${'x/'.repeat(40)}`].some(isJsonPointer)).toBe(false);
  });
});

describe('generic mapping', () => {
  it('validates at creation, naming the field', () => {
    const bad = GenericMappingSchema.safeParse({
      title: 'check.name',
      observables: [{ type: 'ipv9', path: '/x' }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['title', 'observables.0.type']);
    expect(GenericMappingSchema.safeParse({ title: '/t', regex: '.*' }).success).toBe(false);
    expect(GenericMappingSchema.safeParse({}).error!.issues[0]!.path).toEqual(['title']);
  });

  it('maps a list of alerts at `items`', () => {
    const { items, errors } = mapGeneric([{ index: 0, value: post }], mapping, context);
    expect(items).toHaveLength(1);
    expect(errors).toEqual([
      expect.objectContaining({ index: 1, code: 'invalid_item', field: '/check/name' }),
    ]);
    const [item] = items;
    if (item?.kind !== 'alert') throw new Error('expected an alert');
    expect(item.alert).toMatchObject({
      title: 'Shop front page',
      severity: 'critical',
      source: 'uptime-kuma',
      rule: 'http-42',
      dedupKey: 'generic:int-4:http-42:web-02',
      description: 'HTTP 503',
      seenAt: '2026-03-01T09:00:00.000Z',
    });
    expect(item.alert.observables).toEqual([
      { type: 'host', value: 'web-02' },
      { type: 'ip', value: '192.0.2.10' },
      { type: 'ip', value: 'not-an-ip' },
      { type: 'url', value: 'https://shop.example.com/' },
    ]);
  });

  it('without `items`, each posted document (or array element, or NDJSON line) is one alert', () => {
    const simple = GenericMappingSchema.parse({ title: '/title' });
    const body = '{"title":"one"}\n{"title":"two"}\n{"nope":1}\n';
    const { items, errors } = mapWebhook({ type: 'generic', mapping: simple }, body, context);
    expect(
      items.map((i) => i.kind === 'alert' && [i.index, i.alert.title, i.alert.source, i.alert.severity]),
    ).toEqual([
      [0, 'one', 'generic:uptime', 'medium'],
      [1, 'two', 'generic:uptime', 'medium'],
    ]);
    expect(errors).toEqual([expect.objectContaining({ index: 2, field: '/title' })]);
  });

  it('reads severities: own map, Firebreak names, common words, default', () => {
    const m = { severity_map: { P1: 'critical' as const }, default_severity: 'low' as const };
    expect(genericSeverity('P1', m)).toBe('critical');
    expect(genericSeverity('HIGH', m)).toBe('high');
    expect(genericSeverity('warning', m)).toBe('medium');
    expect(genericSeverity('bogus', m)).toBe('low');
    expect(genericSeverity(undefined, m)).toBe('low');
    expect(genericSeverity('toString', m)).toBe('low');
  });
});
