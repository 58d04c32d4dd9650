/**
 * EVTX parse speed in MB/s beside a baseline measured in the same run: reading the same file through
 * the same 1 MiB reads and touching every byte, without parsing. Two inputs:
 * - a dense synthetic log (Sysmon-like process-creation events filling every 64 KiB chunk), written
 *   to a temporary file with the test-side EVTX writer;
 * - the Sigma regression EVTX files in ../shared, when present (small logs: mostly empty chunk space),
 *   read from disk file by file for both the baseline and the parse.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEvtxFile } from '../src/ingest/evtx/index.js';
import {
  buildChunk,
  buildFile,
  val,
  type RecordSpec,
  type Template,
  type XValue,
} from '../test/ingest/evtx/evtx-builder.js';
import { regressionEvtxFiles } from '../test/ingest/evtx/regression-data.js';

const MiB = 1024 * 1024;
const SYNTHETIC_CHUNKS = 640; // 40 MiB

const sysmonLike: Template = {
  id: 1,
  body: [
    {
      el: 'Event',
      attrs: [['xmlns', [{ text: 'http://schemas.microsoft.com/win/2004/08/events/event' }]]],
      children: [
        {
          el: 'System',
          children: [
            {
              el: 'Provider',
              attrs: [
                ['Name', [{ sub: 0, type: 1, optional: true }]],
                ['Guid', [{ sub: 1, type: 0x0f, optional: true }]],
              ],
            },
            {
              el: 'EventID',
              attrs: [['Qualifiers', [{ sub: 2, type: 6, optional: true }]]],
              children: [{ sub: 3, type: 6 }],
            },
            { el: 'Version', children: [{ sub: 4, type: 4 }] },
            { el: 'Level', children: [{ sub: 5, type: 4 }] },
            { el: 'Task', children: [{ sub: 6, type: 6 }] },
            { el: 'Opcode', children: [{ sub: 7, type: 4 }] },
            { el: 'Keywords', children: [{ sub: 8, type: 0x15 }] },
            { el: 'TimeCreated', attrs: [['SystemTime', [{ sub: 9, type: 0x11, optional: true }]]] },
            { el: 'EventRecordID', children: [{ sub: 10, type: 0x0a }] },
            { el: 'Correlation', attrs: [['ActivityID', [{ sub: 11, type: 0x0f, optional: true }]]] },
            {
              el: 'Execution',
              attrs: [
                ['ProcessID', [{ sub: 12, type: 8 }]],
                ['ThreadID', [{ sub: 13, type: 8 }]],
              ],
            },
            { el: 'Channel', children: [{ sub: 14, type: 1 }] },
            { el: 'Computer', children: [{ sub: 15, type: 1 }] },
            { el: 'Security', attrs: [['UserID', [{ sub: 16, type: 0x13, optional: true }]]] },
          ],
        },
        {
          el: 'EventData',
          children: [
            ['RuleName', 1],
            ['UtcTime', 1],
            ['ProcessGuid', 0x0f],
            ['ProcessId', 8],
            ['Image', 1],
            ['FileVersion', 1],
            ['Description', 1],
            ['Product', 1],
            ['Company', 1],
            ['OriginalFileName', 1],
            ['CommandLine', 1],
            ['CurrentDirectory', 1],
            ['User', 1],
            ['LogonGuid', 0x0f],
            ['LogonId', 0x15],
            ['TerminalSessionId', 8],
            ['IntegrityLevel', 1],
            ['Hashes', 1],
            ['ParentProcessGuid', 0x0f],
            ['ParentProcessId', 8],
            ['ParentImage', 1],
            ['ParentCommandLine', 1],
            ['ParentUser', 1],
          ].map(([name, type], i) => ({
            el: 'Data',
            attrs: [['Name', [{ text: name as string }]]],
            children: [{ sub: 17 + i, type: type as number }],
          })),
        },
      ],
    },
  ],
};

function sysmonValues(n: number): XValue[] {
  const guid = val.guid(
    `0197231E-${(n & 0xffff).toString(16).padStart(4, '0').toUpperCase()}-6928-A50B-000000000D00`,
  );
  return [
    val.string('Microsoft-Windows-Sysmon'),
    val.guid('5770385F-C22A-43E0-BF4C-06F5698FFBD9'),
    val.null(),
    val.uint16(1),
    val.uint8(5),
    val.uint8(4),
    val.uint16(1),
    val.uint8(0),
    val.hex64(0x8000000000000000n),
    val.filetime(1_764_230_410_165 + n, 4n),
    val.uint64(BigInt(500_000 + n)),
    val.null(),
    val.uint32(3544),
    val.uint32(4272),
    val.string('Microsoft-Windows-Sysmon/Operational'),
    val.string('workstation-17.corp.example'),
    val.sid('S-1-5-18'),
    val.string('-'),
    val.string(`2025-11-27 07:40:10.${String(n % 1000).padStart(3, '0')}`),
    guid,
    val.uint32(4000 + (n % 5000)),
    val.string('C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'),
    val.string('10.0.26100.1 (WinBuild.160101.0800)'),
    val.string('Windows PowerShell'),
    val.string('Microsoft® Windows® Operating System'),
    val.string('Microsoft Corporation'),
    val.string('PowerShell.EXE'),
    val.string(
      `powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "Get-ChildItem C:\\Users\\user${n % 50}\\Documents -Recurse | Out-Null"`,
    ),
    val.string('C:\\Users\\user\\'),
    val.string('CORP\\user'),
    guid,
    val.hex64(BigInt(0x3e7 + n)),
    val.uint32(1),
    val.string('High'),
    val.string(
      'SHA256=1B48A4F8D20026E6C56E3AB4CC4788FA6425C8A75F8D91C2869FA533DE6B209E,IMPHASH=C324AAAC01F0F75C811E1F80C41B860C',
    ),
    guid,
    val.uint32(1200),
    val.string('C:\\Windows\\explorer.exe'),
    val.string('C:\\Windows\\Explorer.EXE'),
    val.string('CORP\\user'),
  ];
}

export function syntheticLog(): { bytes: Uint8Array; records: number } {
  const chunks: Uint8Array[] = [];
  let id = 1;
  let perChunk = 0;
  const recordsFrom = (first: number, count: number): RecordSpec[] =>
    Array.from({ length: count }, (_, i) => ({
      id: first + i,
      nodes: [{ instance: sysmonLike, values: sysmonValues(first + i) }],
    }));
  const tryBuild = (first: number, count: number): Uint8Array | null => {
    try {
      return buildChunk(recordsFrom(first, count)).bytes;
    } catch {
      return null; // the writer ran out of room in the 64 KiB chunk
    }
  };
  while (tryBuild(1, perChunk + 1) !== null) perChunk++;
  for (let c = 0; c < SYNTHETIC_CHUNKS; c++) {
    let count = perChunk;
    let chunk = tryBuild(id, count);
    while (chunk === null && count > 1) chunk = tryBuild(id, --count);
    if (chunk === null) throw new Error('cannot fit a record in a chunk');
    chunks.push(chunk);
    id += count;
  }
  return { bytes: buildFile(chunks), records: id - 1 };
}

/** Reads the file through the same 1 MiB reads the EVTX reader uses and touches every byte. */
async function readOnly(path: string): Promise<{ bytes: number; checksum: number }> {
  const handle = await open(path, 'r');
  const buffer = new Uint8Array(16 * 65536);
  let bytes = 0;
  let checksum = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
      if (bytesRead === 0) break;
      const words = new Int32Array(buffer.buffer, 0, bytesRead >>> 2);
      for (let i = 0; i < words.length; i++) checksum = (checksum + (words[i] as number)) | 0;
      bytes += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { bytes, checksum };
}

async function parseFromDisk(path: string): Promise<number> {
  let events = 0;
  const read = readEvtxFile(path);
  for await (const record of read) if (record.event !== null) events++;
  if (read.stats.problems.length > 0)
    throw new Error(`bench input has problems: ${JSON.stringify(read.stats.problems.slice(0, 3))}`);
  return events;
}

async function best<T>(runs: number, fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let ms = Infinity;
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, result: result as T };
}

const mbps = (bytes: number, ms: number): string => (bytes / MiB / (ms / 1000)).toFixed(1);

function line(label: string, bytes: number, ms: number, extra = ''): void {
  process.stdout.write(
    `${label.padEnd(44)} ${mbps(bytes, ms).padStart(8)} MB/s  ${ms.toFixed(0).padStart(6)} ms${extra}\n`,
  );
}

export async function runEvtxBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'firebreak-evtx-bench-'));
  try {
    const { bytes, records } = syntheticLog();
    const path = join(dir, 'synthetic.evtx');
    writeFileSync(path, bytes);
    process.stdout.write(
      `dense synthetic log: ${(bytes.length / MiB).toFixed(1)} MiB, ${records} Sysmon-like records (MB = MiB)\n`,
    );
    await readOnly(path); // warm the page cache
    await parseFromDisk(path); // warm the JIT
    const base = await best(3, () => readOnly(path));
    const parsed = await best(3, () => parseFromDisk(path));
    if (parsed.result !== records) throw new Error(`parsed ${parsed.result} records, wrote ${records}`);
    line('baseline: read + touch every byte', bytes.length, base.ms);
    line(
      'readEvtxFile: read + parse to JSON objects',
      bytes.length,
      parsed.ms,
      `  ${Math.round(records / (parsed.ms / 1000))} events/s`,
    );
    process.stdout.write(
      `ratio parse/baseline: ${(base.ms / parsed.ms).toFixed(3)} (parse runs at ${((100 * base.ms) / parsed.ms).toFixed(1)}% of read speed)\n`,
    );

    const files = regressionEvtxFiles();
    if (files.length === 0) {
      process.stdout.write('regression corpus: skipped (../shared absent)\n');
      return;
    }
    const corpusBytes = files.reduce((n, f) => n + statSync(f).size, 0);
    const readAll = async (): Promise<number> => {
      let checksum = 0;
      for (const f of files) checksum = (checksum + (await readOnly(f)).checksum) | 0;
      return checksum;
    };
    const parseAll = async (): Promise<number> => {
      let n = 0;
      for (const f of files) n += await parseFromDisk(f);
      return n;
    };
    await parseAll();
    const cBase = await best(5, readAll);
    const cParse = await best(5, parseAll);
    process.stdout.write(
      `regression corpus: ${files.length} files, ${(corpusBytes / MiB).toFixed(1)} MiB, ${cParse.result} records ` +
        '(small logs: mostly unused chunk space, which parsing skips after its CRC)\n',
    );
    line('baseline: read + touch every byte', corpusBytes, cBase.ms);
    line('readEvtxFile: read + parse', corpusBytes, cParse.ms);
    process.stdout.write(`ratio parse/baseline: ${(cBase.ms / cParse.ms).toFixed(3)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
