import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeEvtxStream,
  parseEvtx,
  readEvtxFile,
  type EvtxRecord,
} from '../../../src/ingest/evtx/index.js';
import {
  HAVE_REGRESSION_DATA,
  REGRESSION_DIR,
  SKIP_REASON,
  readReferenceJson,
  regressionEvtxFiles,
} from './regression-data.js';

if (!HAVE_REGRESSION_DATA) console.warn(`skipping EVTX regression comparison: ${SKIP_REASON}`);

const files = regressionEvtxFiles();

describe.skipIf(!HAVE_REGRESSION_DATA)(
  'EVTX decoding matches the evtx-dump JSON of the regression data',
  () => {
    it('finds the regression EVTX files', () => {
      expect(files.length).toBeGreaterThan(0);
    });

    it.each(files.map((path) => [relative(REGRESSION_DIR, path), path] as const))('%s', (_name, path) => {
      const expected = readReferenceJson(path.replace(/\.evtx$/, '.json'));
      const parse = parseEvtx(readFileSync(path));
      const records = [...parse];
      expect(parse.stats.problems).toEqual([]);
      expect(parse.stats.recordsSkipped).toBe(0);
      expect(records.map((r) => r.event)).toEqual(expected);
      // Same keys in the same order: the serialised forms are identical.
      expect(JSON.stringify(records.map((r) => r.event))).toBe(JSON.stringify(expected));
      for (const [i, record] of records.entries()) {
        const system = (
          record.event['Event'] as { System: { TimeCreated: { '#attributes': { SystemTime: string } } } }
        ).System;
        // Exported logs renumber record headers (System.EventRecordID keeps the original): they count up by one.
        if (i > 0) expect(record.recordId).toBe((records[i - 1] as EvtxRecord).recordId + 1);
        // Some exporters leave the record header's write time unset (null); otherwise it is taken at nearly
        // the same moment as the event's creation time.
        if (record.timestamp === null) continue;
        expect(record.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        const skewMs = Math.abs(
          Date.parse(record.timestamp) - Date.parse(system.TimeCreated['#attributes'].SystemTime),
        );
        expect(skewMs).toBeLessThan(60_000);
      }
    });

    it('decodes the same records from disk, from a stream and from memory', async () => {
      for (const path of files.slice(0, 10)) {
        const fromMemory = [...parseEvtx(readFileSync(path))];
        const read = readEvtxFile(path, { chunksPerRead: 1 });
        const fromDisk: EvtxRecord[] = [];
        for await (const record of read) fromDisk.push(record);
        expect(fromDisk).toEqual(fromMemory);
        expect(read.stats.records).toBe(fromMemory.length);
        expect(read.header?.majorVersion).toBe(3);
        expect(read.bytesRead).toBe(statSync(path).size);
        const bytes = readFileSync(path);
        const stream = decodeEvtxStream(
          (async function* () {
            for (let at = 0; at < bytes.length; at += 1000) yield bytes.subarray(at, at + 1000);
          })(),
        );
        const fromStream: EvtxRecord[] = [];
        for await (const record of stream) fromStream.push(record);
        expect(fromStream).toEqual(fromMemory);
      }
    });
  },
);
