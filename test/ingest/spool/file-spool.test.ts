import {
  appendFileSync,
  fdatasync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  write,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  IllegalStateError,
  OperationalError,
  RateLimitedError,
  UserError,
} from '../../../src/core/errors.js';
import {
  openFileSpool,
  type FileSpool,
  type FileSpoolOptions,
  type SpooledEvent,
  type SpoolFileIo,
} from '../../../src/ingest/spool/index.js';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  sealRecord,
} from '../../../src/ingest/spool/record-format.js';
import { buildReceivedEvent, buildReceivedEvents, eventNumber } from './events.js';

let dir: string;
const open: FileSpool[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'firebreak-spool-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((spool) => spool.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function spoolAt(options: Partial<FileSpoolOptions> = {}): Promise<FileSpool> {
  const spool = await openFileSpool({ directory: dir, ...options });
  open.push(spool);
  return spool;
}

async function reopen(spool: FileSpool, options: Partial<FileSpoolOptions> = {}) {
  await spool.close();
  return spoolAt(options);
}

async function readAll(spool: FileSpool, after = 0, batch = 97): Promise<SpooledEvent[]> {
  const out: SpooledEvent[] = [];
  for (;;) {
    const page = await spool.read(after, batch);
    if (page.length === 0) return out;
    out.push(...page);
    after = (page.at(-1) as SpooledEvent).position;
  }
}

function segmentFiles(): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort();
}

function realSync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('FileSpool', () => {
  it('gives positions 1, 2, 3 ... in call order and reads the events back unchanged', async () => {
    const spool = await spoolAt();
    const first = await spool.append(buildReceivedEvents(1, 3));
    const second = await spool.append([buildReceivedEvent(4, { raw: { nested: { é: 'ü' } } })]);
    const third = await spool.append(buildReceivedEvents(5, 10));
    expect([first, second, third]).toEqual([
      { firstPosition: 1, lastPosition: 3 },
      { firstPosition: 4, lastPosition: 4 },
      { firstPosition: 5, lastPosition: 14 },
    ]);
    const all = await readAll(spool, 0, 4);
    expect(all.map((r) => r.position)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(all[3]?.event).toEqual(buildReceivedEvent(4, { raw: { nested: { é: 'ü' } } }));
    expect(all[13]?.event).toEqual(buildReceivedEvent(14));
    // Reading from the middle (no cursor to continue from) finds the right record.
    expect((await spool.read(9, 2)).map((r) => r.position)).toEqual([10, 11]);
    expect(await spool.read(14, 10)).toEqual([]);
    expect(await spool.append([])).toEqual({ firstPosition: 15, lastPosition: 14 });
  });

  it('reads records larger than its read window, and records that straddle a window edge', async () => {
    const spool = await spoolAt();
    const big = buildReceivedEvent(2, { raw: 'y'.repeat(1_500_000) });
    await spool.append([buildReceivedEvent(1), big, ...buildReceivedEvents(3, 4000)]);
    const all = await readAll(spool, 0, 333);
    expect(all.map((r) => r.position)).toEqual(Array.from({ length: 4002 }, (_, i) => i + 1));
    expect(all[1]?.event).toEqual(big);
    expect(all.slice(2).every((r) => eventNumber(r.event) === r.position)).toBe(true);
    expect(spool.stats().corruptRecords).toBe(0);
  });

  it('reads its last writes from memory and older ones from the file, with the same result', async () => {
    const spool = await spoolAt({ segmentBytes: 8 * 1024 * 1024 });
    // About 24 MiB in 48 writes: more than the 16 MiB of recent writes kept, across segments.
    const padding = 'p'.repeat(1700);
    for (let c = 0; c < 48; c++) {
      await spool.append(
        buildReceivedEvents(c * 300 + 1, 300).map((e) => ({ ...e, raw: `${padding} ${String(e.raw)}` })),
      );
    }
    const fromBoth = await readAll(spool, 0, 500);
    const served = spool.stats().readsFromMemory;
    expect(served).toBeGreaterThan(0);
    expect(fromBoth.map((r) => r.position)).toEqual(Array.from({ length: 14_400 }, (_, i) => i + 1));
    expect(fromBoth.every((r) => eventNumber(r.event) === r.position)).toBe(true);
    // Reopened: nothing in memory, everything from the files, the same records.
    const reopened = await reopen(spool, { segmentBytes: 8 * 1024 * 1024 });
    const fromFiles = await readAll(reopened, 0, 500);
    expect(reopened.stats().readsFromMemory).toBe(0);
    expect(fromFiles).toEqual(fromBoth);
    expect(reopened.stats().corruptRecords).toBe(0);
  });

  it('keeps each concurrent call contiguous and in the order the calls were made', async () => {
    const spool = await spoolAt();
    const receipts = await Promise.all(
      Array.from({ length: 50 }, (_, c) => spool.append(buildReceivedEvents(c * 100, 1 + (c % 7)))),
    );
    let expected = 1;
    for (const [c, receipt] of receipts.entries()) {
      expect(receipt.firstPosition).toBe(expected);
      expected += 1 + (c % 7);
      expect(receipt.lastPosition).toBe(expected - 1);
    }
    const all = await readAll(spool);
    const numbers = receipts.flatMap((_, c) => Array.from({ length: 1 + (c % 7) }, (_, i) => c * 100 + i));
    expect(all.map((r) => eventNumber(r.event))).toEqual(numbers);
  });

  it('resolves an append only after its fdatasync completed', async () => {
    let openGate: () => void = () => undefined;
    let gated = false;
    const io: Partial<SpoolFileIo> = {
      fdatasync: async (fd) => {
        if (gated) await new Promise<void>((resolve) => (openGate = resolve));
        await realSync(fd);
      },
    };
    const spool = await spoolAt({ io });
    gated = true;
    let settled = false;
    const append = spool.append(buildReceivedEvents(1, 2)).then((r) => ((settled = true), r));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    expect(await spool.read(0, 10)).toEqual([]); // not durable, so not readable either
    gated = false;
    openGate();
    expect(await append).toEqual({ firstPosition: 1, lastPosition: 2 });
    expect((await spool.read(0, 10)).length).toBe(2);
  });

  it('group-commits concurrent appends: many calls share one write and one fsync', async () => {
    let syncs = 0;
    const slowSync: Partial<SpoolFileIo> = {
      fdatasync: async () => {
        syncs++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    };
    const spool = await spoolAt({ io: slowSync });
    const before = spool.stats();
    const syncsBefore = syncs;
    await Promise.all(Array.from({ length: 300 }, (_, c) => spool.append(buildReceivedEvents(c * 10, 10))));
    const after = spool.stats();
    expect(after.appendCalls - before.appendCalls).toBe(300);
    expect(after.appendedRecords).toBe(3000);
    // The first call goes alone; the other 299 wait behind it and share the next write.
    expect(after.writes - before.writes).toBeLessThanOrEqual(3);
    expect(syncs - syncsBefore).toBeLessThanOrEqual(3);
    expect(after.fsyncs - before.fsyncs).toBe(syncs - syncsBefore);
    expect((await readAll(spool, 0, 1000)).length).toBe(3000);
  });

  it('refuses appends beyond the backlog limit with spool_full, then accepts after release', async () => {
    const spool = await spoolAt({ backlogLimitBytes: 20_000, retryAfterSeconds: 3 });
    const changes: boolean[] = [];
    spool.onFullChange((full) => changes.push(full));
    let accepted = 0;
    let refused: unknown;
    for (let n = 0; n < 200 && !refused; n += 10) {
      try {
        await spool.append(buildReceivedEvents(n, 10));
        accepted += 10;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ code: 'spool_full', retryAfterSeconds: 3 });
    expect(spool.full).toBe(true);
    expect(spool.stats()).toMatchObject({ full: true, rejectedCalls: 1, lastPosition: accepted });
    expect(spool.stats().backlogBytes).toBeLessThanOrEqual(20_000);
    expect(changes).toEqual([true]);
    // Nothing of the refused call was stored, and while full even a small call is refused.
    expect((await readAll(spool)).length).toBe(accepted);
    await expect(spool.append([buildReceivedEvent(999)])).rejects.toMatchObject({ code: 'spool_full' });

    await readAll(spool, 0, 5); // the consumer reads ...
    await spool.release(accepted - 5); // ... and commits all but the last 5 records
    expect(spool.full).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(await spool.append([buildReceivedEvent(1000)])).toEqual({
      firstPosition: accepted + 1,
      lastPosition: accepted + 1,
    });
  });

  it('stays full until the backlog drains below three quarters of the limit', async () => {
    const spool = await spoolAt({ backlogLimitBytes: 40_000 });
    let accepted = 0;
    while (!spool.full) {
      await spool.append(buildReceivedEvents(accepted, 10)).then(
        () => (accepted += 10),
        () => undefined,
      );
    }
    await readAll(spool, 0, 10); // marks every 10 records, so release can count bytes exactly
    await spool.release(10);
    expect(spool.full).toBe(true);
    await spool.release(Math.floor((accepted * 0.4) / 10) * 10);
    expect(spool.stats().backlogBytes).toBeLessThanOrEqual(30_000);
    expect(spool.full).toBe(false);
  });

  it('rotates segments and deletes only whole segments below the released position', async () => {
    const spool = await spoolAt({ segmentBytes: 4096 });
    for (let c = 0; c < 40; c++) await spool.append(buildReceivedEvents(c * 5, 5));
    const files = segmentFiles();
    expect(files.length).toBeGreaterThan(10);
    expect(spool.stats().segments).toBe(files.length);
    const all = await readAll(spool, 0, 33);
    expect(all.map((r) => r.position)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    const backlogBefore = spool.stats().backlogBytes;
    await spool.release(100);
    const kept = segmentFiles();
    const bases = kept.map((name) => Number(name.slice(0, 20)));
    // Every deleted segment ended at or before 100; the oldest kept one holds 101.
    expect(bases[0]).toBeLessThanOrEqual(101);
    expect(bases[1]).toBeGreaterThan(101);
    expect(kept.length).toBeLessThan(files.length);
    expect(spool.stats().backlogBytes).toBeLessThan(backlogBefore);
    expect(spool.stats().backlogRecords).toBe(100);
    expect((await readAll(spool, 100)).map((r) => r.position)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 101),
    );
    await spool.release(200);
    expect(segmentFiles()).toHaveLength(1); // the segment being written is never deleted
    expect(spool.stats()).toMatchObject({ backlogRecords: 0, backlogBytes: 0 });
  });

  it('continues after a restart from the checkpoint the consumer releases', async () => {
    let spool = await spoolAt();
    for (let c = 0; c < 10; c++) await spool.append(buildReceivedEvents(c * 5 + 1, 5));
    const recordBytes = spool.stats().appendedBytes / 50;
    spool = await reopen(spool);
    expect(spool.recovery).toMatchObject({ truncatedBytes: 0, lastPosition: 50 });
    await spool.release(37); // the database's checkpoint
    expect(spool.stats().backlogRecords).toBe(13);
    const rest = await readAll(spool, 37);
    expect(rest.map((r) => eventNumber(r.event))).toEqual(Array.from({ length: 13 }, (_, i) => i + 38));
    // Reading past the checkpoint showed where it lies, so the byte backlog is exact again.
    expect(spool.stats().backlogBytes).toBeCloseTo(13 * recordBytes, -2);
    expect(await spool.append([buildReceivedEvent(51)])).toEqual({ firstPosition: 51, lastPosition: 51 });
  });

  it('cuts a torn tail on opening and reports how much', async () => {
    let spool = await spoolAt();
    await spool.append(buildReceivedEvents(1, 20));
    await spool.close();
    const [file] = segmentFiles();
    const path = join(dir, file as string);
    const sizeBefore = readFileSync(path).length;
    // Half of a record: a write that was in flight when the machine stopped.
    const body = JSON.stringify(buildReceivedEvent(21));
    const record = Buffer.alloc(RECORD_HEADER_BYTES + Buffer.byteLength(body));
    record.write(body, RECORD_HEADER_BYTES);
    sealRecord(record, 0, Buffer.byteLength(body), 21, true);
    appendFileSync(path, record.subarray(0, 200));

    spool = await spoolAt();
    expect(spool.recovery).toMatchObject({ truncatedBytes: 200, lastPosition: 20, corruptRegions: 0 });
    expect(spool.stats().recoveredTailBytes).toBe(200);
    expect(readFileSync(path).length).toBe(sizeBefore);
    expect((await readAll(spool)).map((r) => eventNumber(r.event))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(await spool.append([buildReceivedEvent(21)])).toEqual({ firstPosition: 21, lastPosition: 21 });
    spool = await reopen(spool);
    expect(spool.recovery.truncatedBytes).toBe(0);
    expect((await readAll(spool)).length).toBe(21);
  });

  it('cuts whole records of a write that never got its commit mark (an unacknowledged call)', async () => {
    let spool = await spoolAt();
    await spool.append(buildReceivedEvents(1, 3));
    await spool.close();
    const path = join(dir, segmentFiles()[0] as string);
    const records = [4, 5].map((n) => {
      const body = JSON.stringify(buildReceivedEvent(n));
      const record = Buffer.alloc(RECORD_HEADER_BYTES + Buffer.byteLength(body));
      record.write(body, RECORD_HEADER_BYTES);
      sealRecord(record, 0, Buffer.byteLength(body), n, false); // valid records, no commit mark
      return record;
    });
    appendFileSync(path, Buffer.concat(records));
    spool = await spoolAt();
    expect(spool.recovery).toMatchObject({
      truncatedBytes: records[0]!.length + records[1]!.length,
      lastPosition: 3,
    });
    expect((await readAll(spool)).map((r) => r.position)).toEqual([1, 2, 3]);
  });

  it('skips a damaged record in an older segment with a counted error and reads the rest', async () => {
    let spool = await spoolAt({ segmentBytes: 4096 });
    for (let c = 0; c < 12; c++) await spool.append(buildReceivedEvents(c * 5 + 1, 5));
    await spool.close();
    const first = join(dir, segmentFiles()[0] as string);
    const bytes = readFileSync(first);
    // Flip a byte in the body of the third record of the oldest segment.
    let offset = SEGMENT_HEADER_BYTES;
    for (let i = 0; i < 2; i++) offset += RECORD_HEADER_BYTES + bytes.readUInt32LE(offset + 4);
    bytes[offset + RECORD_HEADER_BYTES + 10] = (bytes[offset + RECORD_HEADER_BYTES + 10] as number) ^ 0x20;
    writeFileSync(first, bytes);

    spool = await spoolAt({ segmentBytes: 4096 });
    expect(spool.recovery.corruptRegions).toBe(0); // only the last segment is scanned on opening
    const all = await readAll(spool, 0, 7);
    const positions = all.map((r) => r.position);
    expect(positions).toEqual(Array.from({ length: 60 }, (_, i) => i + 1).filter((p) => p !== 3));
    expect(all.every((r) => eventNumber(r.event) === r.position)).toBe(true);
    expect(spool.stats().corruptRecords).toBe(1);
  });

  it('keeps acknowledged records after a damaged one in the last segment', async () => {
    let spool = await spoolAt();
    for (let c = 0; c < 4; c++) await spool.append(buildReceivedEvents(c * 5 + 1, 5));
    await spool.close();
    const path = join(dir, segmentFiles()[0] as string);
    const bytes = readFileSync(path);
    bytes[SEGMENT_HEADER_BYTES + 1] = (bytes[SEGMENT_HEADER_BYTES + 1] as number) ^ 0xff; // record 1's CRC
    writeFileSync(path, bytes);
    spool = await spoolAt();
    expect(spool.recovery).toMatchObject({ truncatedBytes: 0, corruptRegions: 1, lastPosition: 20 });
    const all = await readAll(spool);
    expect(all.map((r) => r.position)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
  });

  it('rejects an append whose fsync fails, keeps nothing of it and leaves no gap', async () => {
    let failNext = false;
    const io: Partial<SpoolFileIo> = {
      fdatasync: (fd) => {
        if (!failNext) return realSync(fd);
        failNext = false;
        return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      },
    };
    let spool = await spoolAt({ io });
    await spool.append(buildReceivedEvents(1, 2));
    failNext = true;
    const error = await rejection(spool.append(buildReceivedEvents(100, 3)));
    expect(error).toBeInstanceOf(OperationalError);
    expect(error).toMatchObject({ code: 'spool_write_failed' });
    expect(spool.stats()).toMatchObject({ failedCalls: 1, lastPosition: 2 });
    expect(await spool.append([buildReceivedEvent(3)])).toEqual({ firstPosition: 3, lastPosition: 3 });
    expect((await readAll(spool)).map((r) => eventNumber(r.event))).toEqual([1, 2, 3]);
    spool = await reopen(spool);
    expect(spool.recovery.truncatedBytes).toBe(0);
    expect((await readAll(spool)).map((r) => eventNumber(r.event))).toEqual([1, 2, 3]);
  });

  it('stops accepting appends when a failed write cannot be undone', async () => {
    let failing = false;
    const fail = (code: string) => Promise.reject(Object.assign(new Error(code), { code }));
    const io: Partial<SpoolFileIo> = {
      write: (fd, buffer, offset, length, position) =>
        failing
          ? fail('ENOSPC')
          : new Promise((resolve, reject) =>
              write(fd, buffer, offset, length, position, (e, n) => (e ? reject(e) : resolve(n))),
            ),
      ftruncate: () => fail('EIO'),
    };
    const spool = await spoolAt({ io });
    failing = true;
    await expect(spool.append([buildReceivedEvent(1)])).rejects.toMatchObject({ code: 'spool_write_failed' });
    await expect(spool.append([buildReceivedEvent(2)])).rejects.toMatchObject({ code: 'spool_failed' });
  });

  it('refuses events it cannot store, without storing the rest of the call', async () => {
    const spool = await spoolAt({ maxRecordBytes: 1000 });
    const big = buildReceivedEvent(2, { raw: 'x'.repeat(2000) });
    const error = await rejection(spool.append([buildReceivedEvent(1), big]));
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ code: 'spool_record_too_large', details: { index: 1 } });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(spool.append([buildReceivedEvent(3, { raw: cyclic })])).rejects.toMatchObject({
      code: 'spool_record_unserialisable',
    });
    expect(spool.stats().lastPosition).toBe(0);
  });

  it('wakes a waiting consumer on new data, and rejects waits on abort and close', async () => {
    const spool = await spoolAt();
    const waiting = spool.waitForData(0);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    await spool.append([buildReceivedEvent(1)]);
    await waiting;
    await expect(spool.waitForData(0)).resolves.toBeUndefined(); // already there

    const controller = new AbortController();
    const aborted = spool.waitForData(1, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(aborted).rejects.toThrow('stopping');

    const pendingAtClose = rejection(spool.waitForData(1));
    await spool.close();
    const error = await pendingAtClose;
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error).toMatchObject({ code: 'spool_closed' });
    await expect(spool.append([buildReceivedEvent(2)])).rejects.toMatchObject({ code: 'spool_closed' });
  });

  it('lets one process at a time open a directory', async () => {
    const spool = await spoolAt();
    const error = await rejection(openFileSpool({ directory: dir }));
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error).toMatchObject({ code: 'spool_locked', details: { pid: process.pid } });
    const again = await reopen(spool); // the lock went with the close
    await again.close();
    // A lock left by a process that no longer exists is taken over.
    writeFileSync(join(dir, 'spool.lock'), '2147483646\n');
    await expect(spoolAt()).resolves.toBeDefined();
  });

  it('moves past a checkpoint beyond its last position (an emptied spool directory)', async () => {
    const spool = await spoolAt();
    await spool.append(buildReceivedEvents(1, 2));
    await spool.release(500);
    expect(await spool.append([buildReceivedEvent(3)])).toEqual({ firstPosition: 501, lastPosition: 501 });
    expect((await spool.read(500, 10)).map((r) => r.position)).toEqual([501]);
    await spool.release(501);
    expect(segmentFiles()).toEqual(['00000000000000000501.seg']);
  });

  it('refuses invalid options, positions and overlapping reads', async () => {
    await expect(openFileSpool({ directory: dir, segmentBytes: 10 })).rejects.toMatchObject({
      code: 'invalid_spool_options',
    });
    const spool = await spoolAt();
    await expect(spool.read(-1, 10)).rejects.toMatchObject({ code: 'invalid_spool_position' });
    await expect(spool.read(0, 0)).rejects.toMatchObject({ code: 'invalid_spool_batch' });
    await expect(spool.release(1.5)).rejects.toMatchObject({ code: 'invalid_spool_position' });
    const first = spool.read(0, 10);
    await expect(spool.read(0, 10)).rejects.toMatchObject({ code: 'spool_read_in_progress' });
    await first;
  });
});
