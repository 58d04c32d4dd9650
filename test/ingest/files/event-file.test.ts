import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationalError, UserError } from '../../../src/core/errors.js';
import { readEvtxFile } from '../../../src/ingest/evtx/index.js';
import {
  openEventFile,
  type EventFileOptions,
  type FileProblem,
  type FileRecord,
} from '../../../src/ingest/files/index.js';
import { HAVE_REGRESSION_DATA, SKIP_REASON, regressionEvtxFiles } from '../evtx/regression-data.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): string => join(FIXTURES, name);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-ingest-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function temp(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readAll(
  path: string,
  options: EventFileOptions = {},
): Promise<{ records: FileRecord[]; problems: FileProblem[]; layout: string; format: string }> {
  const problems: FileProblem[] = [];
  const file = await openEventFile(path, { ...options, onProblem: (p) => problems.push(p) });
  const records: FileRecord[] = [];
  for await (const r of file) records.push(r);
  return { records, problems, layout: file.plan.layout, format: file.plan.format };
}

describe('text lines', () => {
  it('reads a syslog file line by line with file line numbers, skipping blank lines', async () => {
    const { records, problems, format } = await readAll(fixture('auth.log'));
    expect(format).toBe('syslog');
    expect(problems).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 5]);
    expect(records[0]).toEqual({
      format: 'syslog',
      raw: 'Nov 27 07:40:10 web1 sshd[1201]: Failed password for invalid user admin from 203.0.113.7 port 51234 ssh2',
      line: 1,
    });
  });

  it('reads access logs with CRLF endings as access_log lines without the CR', async () => {
    const { records, format } = await readAll(fixture('access.log'));
    expect(format).toBe('access_log');
    expect(records).toHaveLength(3);
    expect(records.every((r) => typeof r.raw === 'string' && !r.raw.endsWith('\r'))).toBe(true);
  });

  it('keeps a last line without a line break, replaces invalid UTF-8, and skips over-long lines', async () => {
    const path = await temp(
      'mixed.log',
      Buffer.concat([
        Buffer.from('first\n'),
        Buffer.from('x'.repeat(100)),
        Buffer.from('\nbad \xff byte\n', 'latin1'),
        Buffer.from('last'),
      ]),
    );
    const { records, problems } = await readAll(path, { maxRecordChars: 50, format: 'syslog' });
    expect(records.map((r) => [r.line, r.raw])).toEqual([
      [1, 'first'],
      [3, 'bad \ufffd byte'],
      [4, 'last'],
    ]);
    expect(problems).toEqual([{ line: 2, message: 'line longer than 50 characters, skipped' }]);
  });

  it('reads gzip-compressed files transparently (detection looks inside)', async () => {
    const plain = await readFile(fixture('auth.log'));
    const path = await temp('auth.log.1.gz', gzipSync(plain));
    const gz = await readAll(path);
    const direct = await readAll(fixture('auth.log'));
    expect(gz.format).toBe('syslog');
    expect(gz.records).toEqual(direct.records);
  });

  it('reads a file of many gzip members (logrotate-style concatenation)', async () => {
    const path = await temp(
      'two.gz',
      Buffer.concat([gzipSync('Nov 27 07:40:10 a b: one\n'), gzipSync('Nov 27 07:40:11 a b: two\n')]),
    );
    const { records } = await readAll(path);
    expect(records.map((r) => r.raw)).toEqual(['Nov 27 07:40:10 a b: one', 'Nov 27 07:40:11 a b: two']);
  });
});

describe('JSON', () => {
  it('reads NDJSON, keeping each document as written and reporting bad lines by number', async () => {
    const { records, problems, layout } = await readAll(fixture('events.ndjson'));
    expect(layout).toBe('json');
    expect(records.map((r) => r.line)).toEqual([1, 3, 5]);
    expect((records[1]!.raw as Record<string, unknown>)['event_type']).toBe('dns');
    // The text is sent as written: a 64-bit flow id is not rounded through a JavaScript number.
    expect(records[0]!.text).toContain('"flow_id":1234567890123456789');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4 });
    expect(problems[0]!.message).toMatch(/invalid JSON/);
  });

  it('reads a JSON array of documents', async () => {
    const { records } = await readAll(fixture('events-array.json'));
    expect(records.map((r) => (r.raw as { TargetUserName: string }).TargetUserName)).toEqual([
      'admin',
      'alice',
    ]);
    expect(records.map((r) => r.line)).toEqual([2, 3]);
  });

  it('reads concatenated pretty-printed documents (evtx dump output) and puts each on one line', async () => {
    const { records } = await readAll(fixture('evtx-dump-output.txt'));
    expect(records.map((r) => r.line)).toEqual([1, 7]);
    expect(records[0]!.text).not.toMatch(/[\r\n]/);
    expect(JSON.parse(records[0]!.text!)).toEqual(records[0]!.raw);
    expect(records[1]!.raw).toEqual({
      Event: { System: { EventID: 3, Computer: 'ws1' }, EventData: { DestinationIp: '203.0.113.7' } },
    });
  });

  it('reads each item of a CloudTrail (Records) or Azure (records) wrapper document as an event', async () => {
    const trail = (name: string) => ({ eventSource: 'iam.amazonaws.com', eventName: name });
    const content = [
      JSON.stringify({ Records: [trail('CreateUser'), trail('AttachUserPolicy'), 7] }),
      JSON.stringify({ records: [{ operationName: 'Microsoft.Compute/virtualMachines/delete' }] }),
      JSON.stringify({ Records: [trail('Other')], digestEndTime: 'x' }), // two keys: an event as it is
    ].join('\n');
    const path = await temp('cloudtrail.json.gz', gzipSync(content));
    const { records, problems } = await readAll(path);
    expect(records.map((r) => [r.line, (r.raw as { eventName?: string }).eventName])).toEqual([
      [1, 'CreateUser'],
      [1, 'AttachUserPolicy'],
      [2, undefined],
      [3, undefined],
    ]);
    expect(JSON.parse(records[1]!.text!)).toEqual(trail('AttachUserPolicy'));
    expect(problems).toEqual([{ line: 1, message: 'not a JSON object (an item of a records array)' }]);
  });

  it('reports documents that are not objects', async () => {
    const path = await temp('scalars.ndjson', '{"a":1}\n[1,2]\n"text"\n{"b":2}\n');
    const { records, problems } = await readAll(path);
    expect(records.map((r) => r.line)).toEqual([1, 4]);
    expect(problems).toEqual([
      { line: 2, message: 'not a JSON object' },
      { line: 3, message: 'not a JSON object' },
    ]);
  });

  it('sends JSON documents with the format given by --format', async () => {
    const { records } = await readAll(fixture('events.ndjson'), { format: 'suricata' });
    expect(records.every((r) => r.format === 'suricata')).toBe(true);
  });
});

describe('CSV', () => {
  it('turns rows into objects keyed by the header: quotes, embedded commas, line breaks, BOM, CRLF', async () => {
    const { records, problems, layout } = await readAll(fixture('edge.csv'));
    expect(layout).toBe('csv');
    expect(records).toEqual([
      {
        format: 'auto',
        line: 2,
        raw: {
          time: '2025-11-27T07:40:10Z',
          user: 'alice',
          message: 'hello, world',
          column_4: 'x',
          user_2: 'a2',
        },
      },
      {
        format: 'auto',
        line: 4,
        raw: {
          time: '2025-11-27T07:40:11Z',
          user: 'bob',
          message: 'two\r\nlines "quoted"',
          column_4: 'y',
          user_2: 'b2',
        },
      },
      {
        format: 'auto',
        line: 7,
        raw: {
          time: '2025-11-27T07:40:13Z',
          user: 'dave',
          message: 'with "quotes" and, commas',
          column_4: 'z',
          user_2: 'd2',
        },
      },
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 6 });
    expect(problems[0]!.message).toMatch(/columns length is 5, got 3/);
  });

  it('numbers lines the same with LF endings, and with no line break at the end', async () => {
    const text = (await readFile(fixture('edge.csv'), 'utf8')).replace(/\r\n/g, '\n').replace(/\n$/, '');
    const { records, problems } = await readAll(await temp('edge-lf.csv', text));
    expect(records.map((r) => r.line)).toEqual([2, 4, 7]);
    expect((records[1]!.raw as Record<string, string>)['message']).toBe('two\nlines "quoted"');
    expect(problems.map((p) => p.line)).toEqual([6]);
  });

  it('keeps quotes inside unquoted fields and a header named __proto__ as a plain key', async () => {
    const path = await temp('odd.csv', '__proto__,b\nsay "hi",2\n');
    const { records } = await readAll(path);
    expect(records).toHaveLength(1);
    const raw = records[0]!.raw as Record<string, unknown>;
    expect(Object.keys(raw)).toEqual(['__proto__', 'b']);
    expect(raw['__proto__']).toBe('say "hi"');
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
  });

  it('stops at an unclosed quote that runs past the size limit, keeping the rows before it', async () => {
    const path = await temp('unclosed.csv', `a,b\n1,2\n"open,3\n${'4,5\n'.repeat(50)}`);
    const { records, problems } = await readAll(path, { maxRecordChars: 64 });
    expect(records.map((r) => r.raw)).toEqual([{ a: '1', b: '2' }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/the rest of the file was not read/);
  });

  it('reads gzip-compressed CSV', async () => {
    const path = await temp('edge.csv.gz', gzipSync(await readFile(fixture('edge.csv'))));
    expect((await readAll(path)).records).toEqual((await readAll(fixture('edge.csv'))).records);
  });
});

describe('errors', () => {
  it('rejects missing files, directories and corrupt gzip with their codes', async () => {
    await expect(openEventFile(join(dir, 'missing.log'))).rejects.toMatchObject({
      code: 'ingest_file_unreadable',
    });
    await expect(openEventFile(dir)).rejects.toMatchObject({ code: 'ingest_not_a_file' });
    const corrupt = await temp('bad.log.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]));
    const error = await openEventFile(corrupt).then(
      async (f) => {
        for await (const _ of f) void _;
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('ingest_bad_gzip');
  });

  it('gives an OperationalError class for read failures (not a UserError)', () => {
    // The class exists for I/O failures mid-read; the code is stable for callers.
    expect(new OperationalError('ingest_read_failed', 'x').kind).toBe('operational');
  });
});

describe.skipIf(!HAVE_REGRESSION_DATA)('EVTX (regression data)', () => {
  const files = regressionEvtxFiles().slice(0, 3);

  it.each(files)('%s: every record as its JSON object, format windows, plain and gzip', async (path) => {
    const expected = [];
    for await (const r of readEvtxFile(path)) expected.push({ record: r.recordId, raw: r.event });
    expect(expected.length).toBeGreaterThan(0);
    const { records, problems, layout } = await readAll(path);
    expect(layout).toBe('evtx');
    expect(problems).toEqual([]);
    expect(records).toEqual(expected.map((e) => ({ format: 'windows', ...e })));
    const gz = await temp('copy.evtx.gz', gzipSync(await readFile(path)));
    expect((await readAll(gz)).records).toEqual(records);
  });
});
if (!HAVE_REGRESSION_DATA) console.warn(`skipping EVTX file ingestion tests: ${SKIP_REASON}`);
