import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameJsonFile } from '../../src/hunt/json-framer.js';
import { createReadStream } from 'node:fs';
import { parseJsonDocuments, readJsonDocuments } from '../../src/hunt/json-reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-framer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function fileOf(content: string | Buffer): Promise<string> {
  const file = join(dir, `in-${n++}.json`);
  await writeFile(file, content);
  return file;
}

interface Doc {
  record: number;
  line: number;
  text: string;
}

/** Documents as the framer cuts them (decoded), and the error that ended the read, if any. */
async function framed(file: string, chunk: number): Promise<{ docs: Doc[]; error?: string }> {
  const docs: Doc[] = [];
  let bytesRead = 0;
  try {
    for await (const f of frameJsonFile(file, 'in', chunk)) {
      expect(f.bytesRead).toBeGreaterThanOrEqual(bytesRead);
      bytesRead = f.bytesRead;
      // Each piece has a buffer of its own (transferable): not a view into a shared pool.
      expect(f.bytes.byteOffset).toBe(0);
      for (let i = 0; i < f.count; i++)
        docs.push({
          record: f.firstRecord + i,
          line: f.lines[i]!,
          text: f.bytes.toString('utf8', f.starts[i], f.ends[i]),
        });
    }
  } catch (error) {
    return { docs, error: (error as Error).message };
  }
  return { docs };
}

/**
 * Documents as `parseJsonDocuments` reads them from text arriving in pieces (a file stream decoded in
 * 7-byte pieces): the other implementation of the same layouts.
 */
async function reference(file: string): Promise<{ docs: Doc[]; error?: string }> {
  const docs: Doc[] = [];
  try {
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 7 });
    for await (const r of parseJsonDocuments(stream as AsyncIterable<string>, file))
      docs.push({ record: r.record, line: r.line, text: r.text });
  } catch (error) {
    return { docs, error: (error as Error).message.replace(file, 'in') };
  }
  return { docs };
}

const values = [
  { a: 1, s: 'x { y } "z" [' },
  { b: [1, { c: '}' }], u: 'é ® 日本 \u2028' },
  { d: 'line\nbreak \\ "q" \\\\' },
  { e: null, f: [[], {}], g: '\\' },
];
const layouts: Record<string, string | Buffer> = {
  ndjson: values.map((d) => JSON.stringify(d)).join('\n') + '\n',
  'ndjson, CRLF, no final newline': values.map((d) => JSON.stringify(d)).join('\r\n'),
  'ndjson with blank lines': `\n  \n${values.map((d) => JSON.stringify(d)).join('\n\n \t\n')}\n\n`,
  'ndjson with a byte order mark': Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(values.map((d) => JSON.stringify(d)).join('\n')),
  ]),
  'array, compact': JSON.stringify(values),
  'array, pretty': JSON.stringify(values, null, 2),
  'concatenated, pretty': values.map((d) => JSON.stringify(d, null, 2)).join('\n'),
  'concatenated, compact': values.map((d) => JSON.stringify(d)).join(''),
  'one document without newline': '{"only": true}',
  'only whitespace': ' \n\t\n  ',
  empty: '',
  'a malformed NDJSON line': `{"a":1}\n{"b":2}\n{"c":\n{"d":4}\n`,
  'a truncated last document': `{\n "a": 1\n}\n{\n "b": [1,\n`,
  'large documents': Array.from({ length: 3 }, (_, i) =>
    JSON.stringify({ i, pad: 'x{"]'.repeat(5000) }, null, 1),
  ).join('\n'),
};

describe('frameJsonFile', () => {
  for (const [name, content] of Object.entries(layouts)) {
    it(`cuts ${name} into the documents parseJsonDocuments reads, at any buffer size`, async () => {
      const file = await fileOf(content);
      const expected = await reference(file);
      for (const chunk of [5, 64, 1000, 1 << 20]) {
        const got = await framed(file, chunk);
        if (name === 'a malformed NDJSON line') {
          // The framer does not parse: it hands the malformed line on with its record number, and the
          // reader's error names that record.
          expect(expected.error).toMatch(/record 3: invalid JSON/);
          expect(got.error).toBeUndefined();
          expect(got.docs.map((d) => d.record)).toEqual([1, 2, 3, 4]);
          expect(got.docs[2]!.text).toBe('{"c":');
          expect(got.docs.slice(0, 2)).toEqual(expected.docs);
          continue;
        }
        expect(got.docs, `buffer of ${chunk} bytes`).toEqual(expected.docs);
        expect(got.error, `buffer of ${chunk} bytes`).toEqual(expected.error);
      }
      // readJsonDocuments reads files through the framer: the same records, lines, texts and errors.
      const read: Doc[] = [];
      let readError: string | undefined;
      try {
        for await (const r of readJsonDocuments(file)) {
          read.push({ record: r.record, line: r.line, text: r.text });
          expect(r.value).toEqual(JSON.parse(r.text));
        }
      } catch (error) {
        readError = (error as Error).message.replace(file, 'in');
      }
      expect(read).toEqual(expected.docs);
      expect(readError).toEqual(expected.error);
      if (name === 'a truncated last document') expect(expected.error).toMatch(/record 2: truncated/);
    });
  }

  it('cuts on document boundaries into buffers near the requested size', async () => {
    const line = JSON.stringify({ pad: 'y'.repeat(90) });
    const file = await fileOf(`${line}\n`.repeat(1000));
    const pieces: number[] = [];
    for await (const f of frameJsonFile(file, 'in', 4096)) {
      pieces.push(f.count);
      for (let i = 0; i < f.count; i++) expect(f.bytes.toString('utf8', f.starts[i], f.ends[i])).toBe(line);
    }
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(pieces.length).toBeGreaterThan(20);
  });
});
