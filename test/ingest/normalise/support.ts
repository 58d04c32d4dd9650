/**
 * Builders and shape checks for the normaliser tests, and fast-check arbitraries for hostile input.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { OBSERVABLE_TYPES } from '../../../src/core/vocabulary.js';
import type { FormatHint, NormalisedEvent, ReceivedEvent } from '../../../src/ingest/event-record.js';
import type { Parsed } from '../../../src/ingest/normalise/index.js';

export const RECEIVED_AT = '2024-11-20T08:30:00.000Z';

export function buildReceived(
  raw: ReceivedEvent['raw'],
  format: FormatHint = 'auto',
  overrides: Partial<ReceivedEvent> = {},
): ReceivedEvent {
  return {
    id: '01930000-0000-7000-8000-000000000001',
    orgId: 'org-1',
    receivedAt: RECEIVED_AT,
    source: { kind: 'syslog', name: 'syslog-udp', peer: '192.0.2.10:514' },
    format,
    raw,
    ...overrides,
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isScalar(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Throws (via expect) unless every field value is a scalar or an array of scalars. */
export function expectFieldValues(fields: Readonly<Record<string, unknown>>): void {
  expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
  for (const [key, value] of Object.entries(fields)) {
    const ok = isScalar(value) || (Array.isArray(value) && value.every(isScalar));
    if (!ok) expect.fail(`field ${key} holds ${typeof value}`);
  }
}

/** The contract every normalised event meets. */
export function expectShape(event: NormalisedEvent): void {
  expect(event.timestamp).toMatch(ISO);
  expect(typeof event.parser).toBe('string');
  const f = event.fields;
  expect(f['@timestamp']).toBe(event.timestamp);
  expect(typeof f['event.dataset']).toBe('string');
  expect(typeof f['event.module']).toBe('string');
  expect(typeof f['event.kind']).toBe('string');
  expectFieldValues(f);
  for (const o of event.observables) {
    expect(OBSERVABLE_TYPES).toContain(o.type);
    expect(typeof o.value).toBe('string');
    expect(o.value.length).toBeGreaterThan(0);
  }
}

/** The contract of a parser result (or undefined when the parser declines). */
export function expectParsed(result: Parsed | undefined): void {
  if (result === undefined) return;
  expect(typeof result.parser).toBe('string');
  if (result.time !== undefined) expect(Number.isFinite(result.time)).toBe(true);
  expectFieldValues(result.fields);
}

/** Any text, including lone surrogates, U+FFFD, NULs and control characters. */
export const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom(
      '=',
      '"',
      "'",
      '\\',
      '|',
      ' ',
      '[',
      ']',
      ':',
      '<',
      '>',
      '{',
      '}',
      '\u001d',
      'a',
      '1',
      '.',
      '\ufffd',
    ),
    maxLength: 200,
  }),
);

/** Text that starts like a known format, then goes anywhere. */
export function prefixed(prefixes: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...prefixes), anyText, fc.nat({ max: 200 }))
    .map(([p, tail, cut]) => (p + tail).slice(0, Math.max(0, p.length + tail.length - (cut % 8))));
}

/** Cuts a sample at every position (truncation) — for exhaustive prefix checks. */
export function truncations(sample: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= sample.length; i++) out.push(sample.slice(0, i));
  return out;
}

export const FUZZ_RUNS = 1500;
