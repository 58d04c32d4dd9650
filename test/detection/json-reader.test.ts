import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonDocuments } from '../../src/hunt/json-reader.js';

async function read(text: string): Promise<unknown[]> {
  const dir = await mkdtemp(join(tmpdir(), 'fb-json-'));
  const file = join(dir, 'in.json');
  await writeFile(file, text);
  const out: unknown[] = [];
  try {
    for await (const r of readJsonDocuments(file)) out.push(r.value);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

const docs = [{ a: 1, s: 'x { y } "z"' }, { b: [1, { c: '}' }] }, { d: 'line\nbreak \\ "q"' }];

describe('readJsonDocuments', () => {
  it('reads NDJSON', async () => {
    expect(await read(docs.map((d) => JSON.stringify(d)).join('\n') + '\n')).toEqual(docs);
    expect(await read(docs.map((d) => JSON.stringify(d)).join('\r\n'))).toEqual(docs);
  });
  it('reads a JSON array, compact or pretty', async () => {
    expect(await read(JSON.stringify(docs))).toEqual(docs);
    expect(await read(JSON.stringify(docs, null, 2))).toEqual(docs);
  });
  it('reads concatenated pretty-printed documents', async () => {
    expect(await read(docs.map((d) => JSON.stringify(d, null, 2)).join('\n'))).toEqual(docs);
    expect(await read(docs.map((d) => JSON.stringify(d)).join(''))).toEqual(docs);
  });
  it('reads a single document without newline', async () => {
    expect(await read('{"only": true}')).toEqual([{ only: true }]);
  });
  it('handles documents larger than a read chunk', async () => {
    const big = Array.from({ length: 3 }, (_, i) => ({ i, pad: 'x{"'.repeat(500_000) }));
    expect(await read(big.map((d) => JSON.stringify(d, null, 1)).join('\n'))).toEqual(big);
  });
  it('reports the record number of a malformed document', async () => {
    await expect(read('{"a":1}\n{"b":\n')).rejects.toThrow(/record 2/);
  });
});
