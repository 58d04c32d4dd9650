/**
 * Mutation fuzzing: real EVTX files (the regression data, when present) and synthetic ones are damaged
 * at random with a seeded PRNG (byte flips, hostile integers, copied and zeroed ranges, truncation),
 * usually with the checksums repaired so the damage reaches the BinXml decoder. The decoder must never
 * throw, never hang, never report an internal error, and keep damage local to its chunk.
 * Set EVTX_FUZZ_SEED / EVTX_FUZZ_MS to replay a seed or fuzz longer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeEvtxStream,
  parseEvtx,
  readEvtxFile,
  type EvtxOptions,
  type EvtxRecord,
  type EvtxStats,
} from '../../../src/ingest/evtx/index.js';
import {
  CHUNK,
  buildChunk,
  buildFile,
  fixFileChecksums,
  val,
  type RecordSpec,
  type Template,
} from './evtx-builder.js';
import { regressionEvtxFiles } from './regression-data.js';

const SEED = Number(process.env['EVTX_FUZZ_SEED'] ?? 0x5eed_2026);
const BUDGET_MS = Number(process.env['EVTX_FUZZ_MS'] ?? 4000);

/** mulberry32: small, fast, good enough to spread mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function syntheticFile(): Uint8Array {
  const types = [
    0x01, 0x02, 0x04, 0x06, 0x08, 0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x11, 0x12, 0x13, 0x14, 0x15, 0x81,
  ];
  const data: Template = {
    id: 1,
    body: [
      {
        el: 'Event',
        attrs: [['xmlns', [{ text: 'urn:e' }]]],
        children: [
          {
            el: 'System',
            children: [
              {
                el: 'EventID',
                attrs: [['Qualifiers', [{ sub: 0, type: 6, optional: true }]]],
                children: [{ sub: 1, type: 6 }],
              },
            ],
          },
          {
            el: 'EventData',
            children: types.map((type, i) => ({
              el: 'Data',
              attrs: [['Name', [{ text: `f${i}` }]]],
              children: [{ sub: i + 2, type }],
            })),
          },
          { sub: types.length + 2, type: 0x21 },
        ],
      },
    ],
  };
  const inner: Template = {
    id: 2,
    body: [
      {
        el: 'Inner',
        attrs: [['a', [{ sub: 0, type: 1 }]]],
        children: [{ sub: 1, type: 8 }, { entity: 'amp' }],
      },
    ],
  };
  const values = (n: number) => [
    val.null(),
    val.uint16(n),
    val.string(`value ${n}`),
    val.ansi('ansi'),
    val.uint8(n & 0xff),
    val.uint16(n),
    val.uint32(n * 7),
    val.uint64(BigInt(n) << 40n),
    val.real64(n / 3),
    val.bool(n % 2 === 0),
    val.binary([n & 0xff, 1, 2]),
    val.guid('5770385F-C22A-43E0-BF4C-06F5698FFBD9'),
    val.filetime(1_700_000_000_000 + n),
    val.systemtime(new Date(1_700_000_000_000 + n)),
    val.sid(`S-1-5-21-${n}-2-3-500`),
    val.hex32(n),
    val.hex64(BigInt(n)),
    val.stringArray(['a', `b${n}`]),
    val.xml([{ el: 'UserData', children: [{ instance: inner, values: [val.string('x'), val.uint32(n)] }] }]),
  ];
  const chunk = (first: number): Uint8Array => {
    const records: RecordSpec[] = [];
    for (let i = 0; i < 25; i++)
      records.push({ id: first + i, nodes: [{ instance: data, values: values(first + i) }] });
    return buildChunk(records).bytes;
  };
  return buildFile([chunk(1), chunk(26), chunk(51)]);
}

/** `at(span)` picks a position for a change `span` bytes long, mostly where headers and records are. */
type Mutation = (b: Uint8Array, r: () => number, at: (span: number) => number) => Uint8Array;

const int = (r: () => number, n: number): number => Math.floor(r() * n);

const mutations: Mutation[] = [
  // flip a few bits
  (b, r, at) => {
    for (let i = 0, n = 1 + int(r, 8); i < n; i++) {
      const p = at(1);
      b[p] = (b[p] as number) ^ (1 << int(r, 8));
    }
    return b;
  },
  // overwrite a byte with a token-like value
  (b, r, at) => {
    const tokens = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x0d, 0x0e, 0x0f, 0x21, 0x41, 0x81, 0xff];
    for (let i = 0, n = 1 + int(r, 4); i < n; i++) b[at(1)] = tokens[int(r, tokens.length)] as number;
    return b;
  },
  // hostile 32-bit values (sizes, offsets, counts)
  (b, r, at) => {
    const p = at(4);
    const choices = [
      0,
      0xffffffff,
      0x7fffffff,
      int(r, CHUNK),
      512,
      (p - 4096) % CHUNK,
      ((p - 4096) % CHUNK) + 4,
      int(r, 0x10000) * 4,
    ];
    new DataView(b.buffer, b.byteOffset).setUint32(
      p,
      (choices[int(r, choices.length)] as number) >>> 0,
      true,
    );
    return b;
  },
  // hostile 16-bit values (character counts, value sizes)
  (b, r, at) => {
    new DataView(b.buffer, b.byteOffset).setUint16(
      at(2),
      [0, 0xffff, 0x8000, int(r, 0x10000)][int(r, 4)] as number,
      true,
    );
    return b;
  },
  // copy one range over another (plausible-looking garbage)
  (b, r, at) => {
    const len = 1 + int(r, 256);
    const from = at(len);
    const to = at(len);
    b.copyWithin(to, from, from + len);
    return b;
  },
  // zero a range
  (b, r, at) => {
    const len = 1 + int(r, 2048);
    b.fill(0, at(1), at(1) + len);
    return b;
  },
  // truncate
  (b, r) => b.slice(0, int(r, b.length)),
];

/** The file header and the used part of each chunk: where damage is interesting. */
function hotRanges(b: Uint8Array): Array<[number, number]> {
  const ranges: Array<[number, number]> = [[0, Math.min(128, b.length)]];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let off = 4096; off + 512 <= b.length; off += CHUNK) {
    const free = view.getUint32(off + 48, true);
    ranges.push([off, Math.min(b.length, off + (free >= 512 && free <= CHUNK ? free : 512))]);
  }
  return ranges;
}

function picker(b: Uint8Array, r: () => number): (span: number) => number {
  const ranges = hotRanges(b);
  return (span) => {
    const limit = Math.max(1, b.length - span);
    if (r() < 0.15) return int(r, limit);
    const [start, end] = ranges[int(r, ranges.length)] as [number, number];
    return Math.min(limit - 1, start + int(r, Math.max(1, end - start)));
  };
}

function decodeAll(bytes: Uint8Array, options: EvtxOptions): { records: EvtxRecord[]; stats: EvtxStats } {
  const parse = parseEvtx(bytes, options);
  const records: EvtxRecord[] = [];
  for (const record of parse) records.push(record);
  return { records, stats: parse.stats };
}

function checkInvariants(records: EvtxRecord[], stats: EvtxStats, context: string): void {
  expect(
    stats.problems.filter((p) => p.code === 'internal_error'),
    context,
  ).toEqual([]);
  expect(stats.records, context).toBe(records.length);
  expect(stats.chunksParsed + stats.chunksSkipped + stats.chunksEmpty, context).toBe(stats.chunks);
  for (const record of records) {
    // Every event must survive a JSON round trip unchanged: no undefined, no NaN, no cycles.
    expect(JSON.parse(JSON.stringify(record.event)), context).toEqual(record.event);
    // Exact below 2^53 (real logs never get near); damaged headers may carry anything up to 2^64.
    expect(Number.isInteger(record.recordId) && record.recordId >= 0, context).toBe(true);
  }
}

const seeds: Array<{ name: string; bytes: Uint8Array }> = [
  { name: 'synthetic', bytes: syntheticFile() },
  ...regressionEvtxFiles()
    .filter((_, i) => i % 7 === 0)
    .map((path) => ({ name: path.slice(-50), bytes: new Uint8Array(readFileSync(path)) })),
];

describe('EVTX decoding under random damage', () => {
  it(
    `never throws, hangs or fails internally (seed ${SEED}, ${BUDGET_MS} ms)`,
    () => {
      const random = prng(SEED);
      const started = Date.now();
      let iterations = 0;
      let slowest = 0;
      let recordsSeen = 0;
      let problemsSeen = 0;
      while (Date.now() - started < BUDGET_MS || iterations < 200) {
        const seed = seeds[int(random, seeds.length)] as { name: string; bytes: Uint8Array };
        let bytes: Uint8Array = seed.bytes.slice();
        const steps = 1 + int(random, 4);
        for (let i = 0; i < steps && bytes.length >= 8; i++) {
          bytes = (mutations[int(random, mutations.length)] as Mutation)(
            bytes,
            random,
            picker(bytes, random),
          );
        }
        if (random() < 0.75) fixFileChecksums(bytes);
        const options: EvtxOptions = { checksums: random() < 0.5 ? 'strict' : 'lenient' };
        const context = `seed ${SEED}, iteration ${iterations}, base ${seed.name}`;
        const t0 = Date.now();
        let result: ReturnType<typeof decodeAll> | undefined;
        expect(() => {
          result = decodeAll(bytes, options);
        }, context).not.toThrow();
        slowest = Math.max(slowest, Date.now() - t0);
        if (result !== undefined) {
          checkInvariants(result.records, result.stats, context);
          recordsSeen += result.records.length;
          problemsSeen += result.stats.problems.length;
        }
        iterations++;
      }
      console.info(
        `EVTX fuzz: ${iterations} iterations, ${recordsSeen} records, ${problemsSeen} problems, slowest ${slowest} ms`,
      );
      expect(slowest).toBeLessThan(1000);
      expect(problemsSeen).toBeGreaterThan(0);
      expect(recordsSeen).toBeGreaterThan(0);
    },
    BUDGET_MS + 30_000,
  );

  it('keeps damage inside the chunk it hits', () => {
    const random = prng(SEED ^ 0xc0ffee);
    const clean = syntheticFile();
    const baseline = decodeAll(clean, {}).records;
    expect(baseline.map((r) => r.chunkIndex)).toContain(2);
    for (let i = 0; i < 150; i++) {
      const bytes = clean.slice();
      const middle = bytes.subarray(4096 + CHUNK, 4096 + 2 * CHUNK);
      for (let k = 0, n = 1 + int(random, 6); k < n; k++) {
        const at = 512 + int(random, middle.length - 512);
        middle[at] = int(random, 256);
      }
      if (random() < 0.8) fixFileChecksums(bytes);
      const { records, stats } = decodeAll(bytes, { checksums: random() < 0.5 ? 'strict' : 'lenient' });
      checkInvariants(records, stats, `locality iteration ${i}`);
      const outside = (list: EvtxRecord[]): EvtxRecord[] => list.filter((r) => r.chunkIndex !== 1);
      expect(outside(records), `locality iteration ${i}`).toEqual(outside(baseline));
    }
  });

  it('reads damaged files the same from disk, from a stream and from memory', async () => {
    const random = prng(SEED ^ 0xd15c);
    const dir = mkdtempSync(join(tmpdir(), 'firebreak-evtx-fuzz-'));
    try {
      for (let i = 0; i < 60; i++) {
        const seed = seeds[int(random, seeds.length)] as { name: string; bytes: Uint8Array };
        let bytes: Uint8Array = seed.bytes.slice();
        for (let k = 0, n = 1 + int(random, 3); k < n && bytes.length >= 8; k++) {
          bytes = (mutations[int(random, mutations.length)] as Mutation)(
            bytes,
            random,
            picker(bytes, random),
          );
        }
        if (random() < 0.75) fixFileChecksums(bytes);
        const options: EvtxOptions = { checksums: random() < 0.5 ? 'strict' : 'lenient' };
        const path = join(dir, `case-${i}.evtx`);
        writeFileSync(path, bytes);
        const memory = decodeAll(bytes, options);
        const read = readEvtxFile(path, { ...options, chunksPerRead: 1 + int(random, 3) });
        const disk: EvtxRecord[] = [];
        for await (const record of read) disk.push(record);
        const context = `seed ${SEED}, disk iteration ${i}, base ${seed.name}`;
        expect(disk, context).toEqual(memory.records);
        expect(read.stats, context).toEqual(memory.stats);
        expect(read.bytesRead, context).toBe(bytes.length);
        // And gzip-compressed on disk (read through gunzip; progress counts the compressed bytes).
        if (i % 4 === 0) {
          const gz = gzipSync(bytes);
          writeFileSync(`${path}.gz`, gz);
          const readGz = readEvtxFile(`${path}.gz`, { ...options, chunksPerRead: 1 + (i % 3) });
          const fromGz: EvtxRecord[] = [];
          for await (const record of readGz) fromGz.push(record);
          expect(fromGz, context).toEqual(memory.records);
          expect(readGz.stats, context).toEqual(memory.stats);
          expect(readGz.bytesRead, context).toBe(gz.length);
        }
        // And from a stream cut into pieces of random sizes (1 byte to 100 KB).
        const pieces: Uint8Array[] = [];
        for (let at = 0; at < bytes.length;) {
          const size = 1 + int(random, random() < 0.3 ? 64 : 100_000);
          pieces.push(bytes.slice(at, at + size));
          at += size;
        }
        const stream = decodeEvtxStream(
          (async function* () {
            yield* pieces;
          })(),
          options,
        );
        const streamed: EvtxRecord[] = [];
        for await (const record of stream) streamed.push(record);
        expect(streamed, context).toEqual(memory.records);
        expect(stream.stats, context).toEqual(memory.stats);
        expect(stream.bytesRead, context).toBe(bytes.length);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
