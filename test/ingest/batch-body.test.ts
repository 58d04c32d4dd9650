import { describe, expect, it } from 'vitest';
import { batchKindOf, decodeBatch, MAX_EVENT_BYTES } from '../../src/ingest/batch-body.js';

describe('posted event batches', () => {
  it('keeps the valid NDJSON lines and names each bad one by its line number', () => {
    const body = Buffer.from('{"a":1}\r\n\nnot json\n[1,2]\n{"b":"é"}\n{"c":', 'utf8');
    const batch = decodeBatch('ndjson', body);
    expect(batch.items).toEqual([
      { line: 1, raw: { a: 1 } },
      { line: 5, raw: { b: 'é' } },
    ]);
    expect(batch.errors.map((e) => e.line)).toEqual([3, 4, 6]);
    expect(batch.errors[0]!.error).toMatch(/invalid JSON/);
    expect(batch.errors[1]!.error).toBe('expected a JSON object');
  });

  it('refuses invalid UTF-8 in JSON lines but keeps text lines with the bad bytes replaced', () => {
    const bad = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n{"ok":true}'),
    ]);
    const json = decodeBatch('ndjson', bad);
    expect(json.errors).toEqual([{ line: 1, error: 'not valid UTF-8' }]);
    expect(json.items).toEqual([{ line: 2, raw: { ok: true } }]);
    const text = decodeBatch(
      'text',
      Buffer.concat([Buffer.from('<13>hi '), Buffer.from([0xff]), Buffer.from('\n')]),
    );
    expect(text.items).toEqual([{ line: 1, raw: '<13>hi \uFFFD' }]);
  });

  it('refuses a gigantic line and keeps its neighbours', () => {
    const body = Buffer.concat([
      Buffer.from('first\n'),
      Buffer.alloc(MAX_EVENT_BYTES + 1, 0x61),
      Buffer.from('\nthird'),
    ]);
    const batch = decodeBatch('text', body);
    expect(batch.items.map((i) => i.raw)).toEqual(['first', 'third']);
    expect(batch.errors).toEqual([{ line: 2, error: `longer than ${MAX_EVENT_BYTES} bytes` }]);
  });

  it('reads a JSON array (or one object) and names bad elements by position', () => {
    expect(decodeBatch('json', Buffer.from('[{"a":1}, 2, {"b":2}]'))).toEqual({
      items: [
        { line: 1, raw: { a: 1 } },
        { line: 3, raw: { b: 2 } },
      ],
      errors: [{ line: 2, error: 'expected a JSON object' }],
    });
    expect(decodeBatch('json', Buffer.from('{"a":1}')).items).toHaveLength(1);
    expect(decodeBatch('json', Buffer.from('[{"a":1}')).errors[0]!.error).toMatch(/invalid JSON/);
  });

  it('reads the records of a CloudTrail or Azure document posted as it is stored', () => {
    const body = JSON.stringify({
      Records: [{ eventName: 'CreateUser' }, 'x', { eventName: 'DeleteTrail' }],
    });
    expect(decodeBatch('json', Buffer.from(body))).toEqual({
      items: [
        { line: 1, raw: { eventName: 'CreateUser' } },
        { line: 3, raw: { eventName: 'DeleteTrail' } },
      ],
      errors: [{ line: 2, error: 'expected a JSON object' }],
    });
    expect(decodeBatch('json', Buffer.from('{"records": [{"a": 1}]}')).items).toEqual([
      { line: 1, raw: { a: 1 } },
    ]);
    // another key beside it: an event as it is
    expect(decodeBatch('json', Buffer.from('{"Records": [], "x": 1}')).items).toEqual([
      { line: 1, raw: { Records: [], x: 1 } },
    ]);
  });

  it('knows the media types it takes', () => {
    expect(batchKindOf('application/x-ndjson; charset=utf-8')).toBe('ndjson');
    expect(batchKindOf('Application/JSON')).toBe('json');
    expect(batchKindOf('text/plain')).toBe('text');
    expect(batchKindOf('application/xml')).toBeNull();
    expect(batchKindOf(undefined)).toBeNull();
  });
});
