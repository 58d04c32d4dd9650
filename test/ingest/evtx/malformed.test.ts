import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
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
  fixChunkChecksums,
  val,
  type RecordSpec,
  type Template,
  type XNode,
} from './evtx-builder.js';

function run(bytes: Uint8Array, options: EvtxOptions = {}): { records: EvtxRecord[]; stats: EvtxStats } {
  const parse = parseEvtx(bytes, options);
  const records = [...parse];
  return { records, stats: parse.stats };
}

const codes = (stats: EvtxStats): string[] => stats.problems.map((p) => p.code);
const details = (stats: EvtxStats): Array<string | undefined> => stats.problems.map((p) => p.detail);

const T: Template = {
  id: 1,
  body: [
    {
      el: 'Event',
      children: [
        {
          el: 'EventData',
          children: [{ el: 'Data', attrs: [['Name', [{ text: 'n' }]]], children: [{ sub: 0, type: 8 }] }],
        },
      ],
    },
  ],
};
const rec = (id: number): RecordSpec => ({ id, nodes: [{ instance: T, values: [val.uint32(id * 10)] }] });
const goodChunk = (first: number, count = 3): ReturnType<typeof buildChunk> =>
  buildChunk(Array.from({ length: count }, (_, i) => rec(first + i)));
const ids = (records: EvtxRecord[]): number[] => records.map((r) => r.recordId);

describe('damaged files are skipped piece by piece and reported', () => {
  it('reports input that is not EVTX at all and yields nothing', () => {
    const text = new TextEncoder().encode('this is a plain text log line\n'.repeat(5000));
    const { records, stats } = run(text);
    expect(records).toEqual([]);
    expect(codes(stats)[0]).toBe('file_bad_magic');
    expect(stats.chunksSkipped).toBe(stats.chunks);
    expect(stats.chunks).toBeGreaterThan(1);
  });

  it('reports empty and too-short input', () => {
    expect(codes(run(new Uint8Array(0)).stats)).toEqual(['file_truncated']);
    const file = buildFile([goodChunk(1).bytes]);
    expect(codes(run(file.subarray(0, 1000)).stats)).toEqual(['file_truncated']);
  });

  it('decodes a header-only file to nothing without complaint', () => {
    const { records, stats } = run(buildFile([]));
    expect(records).toEqual([]);
    expect(stats.problems).toEqual([]);
  });

  it('still decodes chunks behind a damaged file header (carving)', () => {
    const file = buildFile([goodChunk(1).bytes]);
    file[124] = (file[124] as number) ^ 0xff;
    expect(codes(run(file).stats)).toEqual(['file_header_crc']);
    file[0] = 0x58;
    const { records, stats } = run(file);
    expect(codes(stats)).toEqual(['file_bad_magic']);
    expect(ids(records)).toEqual([1, 2, 3]);
  });

  it('skips a chunk with a bad magic and goes on with the next', () => {
    const bad = goodChunk(1).bytes;
    bad[3] = 0;
    const { records, stats } = run(buildFile([bad, goodChunk(4).bytes]));
    expect(ids(records)).toEqual([4, 5, 6]);
    expect(codes(stats)).toEqual(['chunk_bad_magic']);
    expect(stats.problems[0]?.offset).toBe(4096);
    expect([stats.chunks, stats.chunksParsed, stats.chunksSkipped]).toEqual([2, 1, 1]);
  });

  it('counts all-zero chunk slots as empty, not damaged', () => {
    const { records, stats } = run(buildFile([goodChunk(1).bytes, new Uint8Array(CHUNK)]));
    expect(ids(records)).toEqual([1, 2, 3]);
    expect(stats.problems).toEqual([]);
    expect(stats.chunksEmpty).toBe(1);
  });

  it('skips a chunk whose header checksum fails in strict mode and decodes it in lenient mode', () => {
    const chunk = goodChunk(1).bytes;
    chunk[8] = 0x63; // first record number: covered by the header CRC only
    const file = buildFile([chunk, goodChunk(4).bytes]);
    const strict = run(file);
    expect(ids(strict.records)).toEqual([4, 5, 6]);
    expect(codes(strict.stats)).toEqual(['chunk_header_crc']);
    const lenient = run(file, { checksums: 'lenient' });
    expect(ids(lenient.records)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(codes(lenient.stats)).toEqual(['chunk_header_crc']);
  });

  it('skips a chunk whose record data checksum fails in strict mode; lenient mode keeps the sound records', () => {
    const built = goodChunk(1);
    const chunk = built.bytes;
    // Break the second record's BinXml: its first byte after the record header is the fragment header token.
    const second = built.recordOffsets[1] as number;
    chunk[second + 24] = 0xee;
    const file = buildFile([chunk]);
    const strict = run(file);
    expect(strict.records).toEqual([]);
    expect(codes(strict.stats)).toEqual(['chunk_data_crc']);
    expect(strict.stats.chunksSkipped).toBe(1);
    const lenient = run(file, { checksums: 'lenient' });
    expect(ids(lenient.records)).toEqual([1, 3]);
    expect(codes(lenient.stats)).toEqual(['chunk_data_crc', 'record_undecodable']);
    expect(lenient.stats.problems[1]).toMatchObject({
      recordId: 2,
      detail: 'bad_token',
      offset: 4096 + second,
    });
    expect(lenient.stats.recordsSkipped).toBe(1);
  });

  it('reports a chunk cut short by truncation; lenient mode keeps the records before the cut', () => {
    const built = goodChunk(1);
    const file = buildFile([built.bytes]);
    const cut = file.subarray(0, 4096 + (built.recordOffsets[2] as number) + 10);
    const strict = run(cut);
    expect(strict.records).toEqual([]);
    expect(codes(strict.stats)).toEqual(['chunk_truncated']);
    const lenient = run(cut, { checksums: 'lenient' });
    expect(ids(lenient.records)).toEqual([1, 2]);
    expect(codes(lenient.stats)).toEqual(['chunk_truncated']);
  });

  it('a truncation after the used part of the last chunk loses nothing', () => {
    const built = goodChunk(1);
    const file = buildFile([built.bytes]);
    const used = new DataView(built.bytes.buffer).getUint32(48, true);
    const { records, stats } = run(file.subarray(0, 4096 + used + 7));
    expect(ids(records)).toEqual([1, 2, 3]);
    expect(stats.problems).toEqual([]);
  });

  it('resynchronises on the next record after a record with a broken header', () => {
    const built = goodChunk(1, 4);
    const second = built.recordOffsets[1] as number;
    new DataView(built.bytes.buffer).setUint32(second + 4, 0x7fffffff, true); // size
    fixChunkChecksums(built.bytes);
    const { records, stats } = run(buildFile([built.bytes]));
    expect(ids(records)).toEqual([1, 3, 4]);
    expect(codes(stats)).toEqual(['record_bad_header']);
    expect(stats.recordsSkipped).toBe(1);
  });
});

describe('hostile BinXml is bounded', () => {
  /** Builds a chunk, lets `damage` edit it, fixes the checksums so the damage reaches the BinXml decoder. */
  function damaged(
    records: RecordSpec[],
    damage: (chunk: Uint8Array, view: DataView, built: ReturnType<typeof buildChunk>) => void,
  ): Uint8Array {
    const built = buildChunk(records);
    damage(built.bytes, new DataView(built.bytes.buffer), built);
    fixChunkChecksums(built.bytes);
    return buildFile([built.bytes]);
  }

  it.each([
    ['into the chunk header', 100],
    ['past the end of the chunk', 0xfffffff0],
    ['at the last bytes of the chunk', CHUNK - 10],
    ['at zeroed free space', CHUNK - 4000],
  ])('a template offset pointing %s only costs that record', (_where, target) => {
    // Record 2 refers to the template record 1 defined; point that reference elsewhere.
    const file = damaged([rec(1), rec(2), rec(3)], (_c, view, built) => {
      view.setUint32((built.recordOffsets[1] as number) + 24 + 4 + 6, target, true);
    });
    const { records, stats } = run(file);
    expect(ids(records)).toEqual([1, 3]);
    expect(codes(stats)).toEqual(['record_undecodable']);
    expect(stats.problems[0]?.recordId).toBe(2);
  });

  it('a template that instantiates itself is a loop, not a hang', () => {
    const inner: Template = { id: 2, body: [{ el: 'Inner' }] };
    const outer: Template = { id: 3, body: [{ el: 'Event', children: [{ instance: inner, values: [] }] }] };
    const file = damaged([{ id: 1, nodes: [{ instance: outer, values: [] }] }], (_c, view, built) => {
      const innerDef = built.templateOffsets.get(2) as number;
      view.setUint32(innerDef - 4, built.templateOffsets.get(3) as number, true);
    });
    const { records, stats } = run(file);
    expect(records).toEqual([]);
    expect(details(stats)).toEqual(['template_loop']);
  });

  it('nesting deeper than the limit is refused without exhausting the stack', () => {
    let node: XNode = { el: 'Leaf' };
    for (let i = 0; i < 3000; i++) node = { el: 'N', children: [node] };
    const built = buildChunk([{ id: 1, nodes: [node] }, rec(2)]);
    const { records, stats } = run(buildFile([built.bytes]));
    expect(ids(records)).toEqual([2]);
    expect(details(stats)).toEqual(['too_deep']);
  });

  it('templates that fan out exponentially hit the node budget quickly', () => {
    let t: Template = { id: 50, body: [{ el: 'Leaf' }] };
    for (let level = 0; level < 9; level++) {
      const child = t;
      t = {
        id: 40 - level,
        body: [
          { el: `L${level}`, children: Array.from({ length: 8 }, () => ({ instance: child, values: [] })) },
        ],
      };
    }
    const started = Date.now();
    const { records, stats } = run(
      buildFile([buildChunk([{ id: 1, nodes: [{ instance: t, values: [] }] }, rec(2)]).bytes]),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ids(records)).toEqual([2]);
    expect(details(stats)).toEqual(['too_large']);
  });

  it('records that each fan out below the record limit still share one budget per chunk', () => {
    let t: Template = { id: 50, body: [{ el: 'Leaf' }] };
    for (let level = 0; level < 4; level++) {
      const child = t;
      t = {
        id: 40 - level,
        body: [
          { el: `L${level}`, children: Array.from({ length: 8 }, () => ({ instance: child, values: [] })) },
        ],
      };
    }
    // Each record expands to some 9000 nodes: 6 of them fit in a budget of 60000.
    const records = Array.from({ length: 200 }, (_, i) => ({
      id: i + 1,
      nodes: [{ instance: t, values: [] }],
    }));
    const file = buildFile([buildChunk(records).bytes, goodChunk(1000).bytes]);
    const started = Date.now();
    const { records: out, stats } = run(file, { maxNodesPerChunk: 60_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ids(out)).toEqual([1, 2, 3, 4, 5, 6, 1000, 1001, 1002]);
    expect(new Set(details(stats))).toEqual(new Set(['chunk_budget']));
    expect(stats.recordsSkipped).toBe(194);
    const leaves = JSON.stringify(out[0]?.event).match(/"Leaf(_\d+)?":null/g) ?? [];
    expect(leaves).toHaveLength(8 ** 4);
  });

  it('attribute parts count against the rendering budget', () => {
    const parts = Array.from({ length: 2000 }, () => ({ charRef: 0x41 }));
    const t: Template = { id: 7, body: [{ el: 'Event', attrs: [['a', parts]] }] };
    const records = Array.from({ length: 300 }, (_, i) => ({
      id: i + 1,
      nodes: [{ instance: t, values: [] }],
    }));
    const { records: out, stats } = run(buildFile([buildChunk(records).bytes]), { maxNodesPerChunk: 10_500 });
    expect(ids(out)).toEqual([1, 2, 3, 4, 5]);
    expect((out[0]?.event['Event'] as { '#attributes': { a: string } })['#attributes'].a).toBe(
      'A'.repeat(2000),
    );
    expect(stats.recordsSkipped).toBe(295);
  });

  it('a value count larger than the record is refused', () => {
    const file = damaged([rec(1), rec(2)], (_c, view, built) => {
      // Record 2's instance: token(10 bytes) then the value count.
      view.setUint32((built.recordOffsets[1] as number) + 24 + 4 + 10, 0x40000000, true);
    });
    const { records, stats } = run(file);
    expect(ids(records)).toEqual([1]);
    expect(details(stats)).toEqual(['bad_value_count']);
  });

  it('keeps at most maxProblems problems but counts them all and tells onProblem each', () => {
    const bad = goodChunk(1).bytes;
    bad[0] = 0;
    const seen: string[] = [];
    const { stats } = run(buildFile([bad, bad, bad, bad]), {
      maxProblems: 2,
      onProblem: (p) => seen.push(p.code),
    });
    expect(stats.problems).toHaveLength(2);
    expect(stats.problemsDropped).toBe(2);
    expect(seen).toEqual(['chunk_bad_magic', 'chunk_bad_magic', 'chunk_bad_magic', 'chunk_bad_magic']);
  });
});

describe('readEvtxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'firebreak-evtx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a many-chunk file with a damaged chunk and a truncated tail', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => goodChunk(1 + i * 3).bytes);
    (chunks[7] as Uint8Array)[0] = 0;
    const file = buildFile(chunks);
    const path = join(dir, 'many.evtx');
    writeFileSync(path, file.subarray(0, file.length - 30_000));
    const read = readEvtxFile(path, { chunksPerRead: 3 });
    const got: number[] = [];
    for await (const record of read) got.push(record.recordId);
    const expected = Array.from({ length: 40 * 3 }, (_, i) => i + 1).filter((id) => id < 22 || id > 24);
    expect(got).toEqual(expected);
    expect(codes(read.stats)).toEqual(['chunk_bad_magic']);
    // The cut falls in the zeroed free space of the last chunk: its records are all there.
    expect(read.stats.chunks).toBe(40);
  });

  it('streams: it has read at most one batch beyond the chunk it is yielding from', async () => {
    const chunks = Array.from({ length: 30 }, (_, i) => goodChunk(1 + i * 3).bytes);
    const path = join(dir, 'stream.evtx');
    writeFileSync(path, buildFile(chunks));
    const chunksPerRead = 2;
    const read = readEvtxFile(path, { chunksPerRead });
    let records = 0;
    for await (const record of read) {
      records++;
      const batchEnd = (Math.floor(record.chunkIndex / chunksPerRead) + 1) * chunksPerRead;
      expect(read.bytesRead).toBeLessThanOrEqual(4096 + batchEnd * CHUNK);
      expect(read.bytesRead).toBeGreaterThan(4096 + record.chunkIndex * CHUNK);
    }
    expect(records).toBe(90);
    expect(read.bytesRead).toBe(4096 + 30 * CHUNK);
  });

  it('rejects a directory with a user error', async () => {
    const read = readEvtxFile(dir);
    await expect(async () => {
      for await (const _ of read) void _;
    }).rejects.toMatchObject({ code: 'evtx_not_a_file', kind: 'user' });
  });

  it('rejects a missing file with a user error', async () => {
    const read = readEvtxFile(join(dir, 'absent.evtx'));
    await expect(async () => {
      for await (const _ of read) void _;
    }).rejects.toMatchObject({ code: 'evtx_file_unreadable' });
  });
});
