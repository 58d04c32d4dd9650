/**
 * JSON input cut into documents (frameJsonFile, on bytes) and the readers built on it
 * (readJsonDocuments for files, parseJsonDocuments for byte streams): every layout, at buffer sizes
 * that split documents, characters and line breaks anywhere. The expected documents are the texts the
 * test wrote, found in the content in order.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameJsonFile, frameJsonPath } from '../../src/hunt/json-framer.js';
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

async function collect(
  records: AsyncIterable<{ record: number; line: number; text: string }>,
  file: string,
): Promise<{ docs: Doc[]; error?: string }> {
  const docs: Doc[] = [];
  try {
    for await (const r of records) docs.push({ record: r.record, line: r.line, text: r.text });
  } catch (error) {
    return { docs, error: (error as Error).message.replace(file, 'in') };
  }
  return { docs };
}

async function* pieces(content: string | Buffer, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(content);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const values = [
  { a: 1, s: 'x { y } "z" [' },
  { b: [1, { c: '}' }], u: 'é ® 日本 \u2028' },
  { d: 'line\nbreak \\ "q" \\\\' },
  { e: null, f: [[], {}], g: '\\' },
];
const compact = values.map((d) => JSON.stringify(d));
const pretty = values.map((d) => JSON.stringify(d, null, 2));
const big = Array.from({ length: 3 }, (_, i) => JSON.stringify({ i, pad: 'x{"]'.repeat(5000) }, null, 1));

/** An input, the documents in it (their text, in order), and the error that ends a reader's read. */
interface Layout {
  readonly content: string | Buffer;
  readonly docs: readonly string[];
  /** `in` names the file. The framer fails only on a truncated document; it does not parse. */
  readonly error?: RegExp;
  /** The documents a reader yields before its error. */
  readonly before?: number;
}
const layouts: Record<string, Layout> = {
  ndjson: { content: compact.join('\n') + '\n', docs: compact },
  'ndjson, CRLF, no final newline': { content: compact.join('\r\n'), docs: compact },
  'ndjson with blank lines': { content: `\n  \n${compact.join('\n\n \t\n')}\n\n`, docs: compact },
  'ndjson with a byte order mark': {
    content: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(compact.join('\n'))]),
    docs: compact,
  },
  'array, compact': { content: JSON.stringify(values), docs: compact },
  // The items as the array writes them: indented one level more.
  'array, pretty': {
    content: JSON.stringify(values, null, 2),
    docs: pretty.map((d) => d.replace(/\n/g, '\n  ')),
  },
  'concatenated, pretty': { content: pretty.join('\n'), docs: pretty },
  'concatenated, compact': { content: compact.join(''), docs: compact },
  'one document without newline': { content: '{"only": true}', docs: ['{"only": true}'] },
  'only whitespace': { content: ' \n\t\n  ', docs: [] },
  empty: { content: '', docs: [] },
  'a malformed NDJSON line': {
    content: `{"a":1}\n{"b":2}\n{"c":\n{"d":4}\n`,
    docs: ['{"a":1}', '{"b":2}', '{"c":', '{"d":4}'],
    error: /^in: record 3: invalid JSON \(/,
    before: 2,
  },
  'a truncated last document': {
    content: `{\n "a": 1\n}\n{\n "b": [1,\n`,
    docs: ['{\n "a": 1\n}'],
    error: /^in: record 2: truncated JSON document at end of file$/,
  },
  'large documents': { content: big.join('\n'), docs: big },
};

/** The documents expected, numbered, with the line each starts on (found in the content in order). */
function expectedDocs(layout: Layout): Doc[] {
  const text = Buffer.from(layout.content)
    .toString('utf8')
    .replace(/^\ufeff/, '');
  let from = 0;
  return layout.docs.map((doc, i) => {
    const at = text.indexOf(doc, from);
    expect(at, `document ${i + 1} in the content`).toBeGreaterThanOrEqual(0);
    from = at + doc.length;
    return { record: i + 1, line: text.slice(0, at).split('\n').length, text: doc };
  });
}

describe('frameJsonFile, readJsonDocuments, parseJsonDocuments', () => {
  for (const [name, layout] of Object.entries(layouts)) {
    it(`${name}: the documents, their records and lines, at any buffer size`, async () => {
      const file = await fileOf(layout.content);
      const expected = expectedDocs(layout);
      const truncated = name === 'a truncated last document';
      for (const chunk of [5, 64, 1000, 1 << 20]) {
        const got = await framed(file, chunk);
        // A malformed line is a document like any other to the framer.
        expect(got.docs, `buffer of ${chunk} bytes`).toEqual(expected);
        if (truncated) expect(got.error).toMatch(layout.error!);
        else expect(got.error).toBeUndefined();
      }
      // The readers parse each document; a malformed one ends the read, naming its record.
      const fromFile = await collect(readJsonDocuments(file), file);
      const fromPieces = await collect(parseJsonDocuments(pieces(layout.content, 7), file), file);
      // The same file compressed with gzip, read through gunzip.
      const gz = `${file}.gz`;
      await writeFile(gz, gzipSync(Buffer.from(layout.content)));
      const fromGzip = await collect(readJsonDocuments(gz), gz);
      for (const read of [fromFile, fromPieces, fromGzip]) {
        expect(read.docs).toEqual(expected.slice(0, layout.before ?? expected.length));
        if (layout.error === undefined) expect(read.error).toBeUndefined();
        else expect(read.error).toMatch(layout.error);
      }
    });
  }

  it('parseJsonDocuments reports a malformed NDJSON line and goes on, when asked to', async () => {
    const reported: Array<[number, string]> = [];
    const records: unknown[] = [];
    const content = layouts['a malformed NDJSON line']!.content;
    for await (const r of parseJsonDocuments(pieces(content, 3), 'in', {
      onMalformedLine: (line, message) => reported.push([line, message]),
    }))
      records.push({ record: r.record, line: r.line, value: r.value });
    expect(records).toEqual([
      { record: 1, line: 1, value: { a: 1 } },
      { record: 2, line: 2, value: { b: 2 } },
      { record: 4, line: 4, value: { d: 4 } },
    ]);
    expect(reported).toHaveLength(1);
    expect(reported[0]![0]).toBe(3);
    expect(reported[0]![1]).toMatch(/^invalid JSON \(/);
  });

  it('reads gzip files of several members, counts compressed bytes, and names a corrupt one', async () => {
    const line = (i: number) => `${JSON.stringify({ i, pad: 'z'.repeat(200) })}\n`;
    const half = (from: number) => Array.from({ length: 500 }, (_, k) => line(from + k)).join('');
    // gzip -c a >> all; gzip -c b >> all: two members, one stream of documents
    const gz = join(dir, 'members.ndjson.gz');
    await writeFile(gz, Buffer.concat([gzipSync(half(0)), gzipSync(half(500))]));
    let last = 0;
    const seen: number[] = [];
    for await (const f of frameJsonPath(gz, 4096)) {
      last = f.bytesRead;
      for (let k = 0; k < f.count; k++)
        seen.push((JSON.parse(f.bytes.toString('utf8', f.starts[k], f.ends[k])) as { i: number }).i);
    }
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, k) => k));
    expect(last).toBe((await stat(gz)).size); // the file's bytes, not the 200 KB decompressed
    const corrupt = join(dir, 'corrupt.json.gz');
    const bytes = gzipSync(half(0));
    bytes[bytes.length - 8]! ^= 0xff; // the CRC-32 of the trailer
    await writeFile(corrupt, bytes);
    const read = await collect(readJsonDocuments(corrupt), 'unused');
    expect(read.error).toBe(`${corrupt}: not a readable gzip file (incorrect data check)`);
    // Gzip is told by its first bytes, as file ingestion tells it, not by the name.
    const plain = join(dir, 'plain.json.gz');
    await writeFile(plain, '{"a": 1}\n');
    expect((await collect(readJsonDocuments(plain), 'unused')).docs).toHaveLength(1);
    const unnamed = join(dir, 'compressed.ndjson');
    await writeFile(unnamed, gzipSync('{"a": 1}\n{"b": 2}\n'));
    expect((await collect(readJsonDocuments(unnamed), 'unused')).docs.map((d) => d.text)).toEqual([
      '{"a": 1}',
      '{"b": 2}',
    ]);
  });

  it('cuts on document boundaries into buffers near the requested size', async () => {
    const line = JSON.stringify({ pad: 'y'.repeat(90) });
    const file = await fileOf(`${line}\n`.repeat(1000));
    const sizes: number[] = [];
    for await (const f of frameJsonFile(file, 'in', 4096)) {
      sizes.push(f.count);
      for (let i = 0; i < f.count; i++) expect(f.bytes.toString('utf8', f.starts[i], f.ends[i])).toBe(line);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(sizes.length).toBeGreaterThan(20);
  });
});
