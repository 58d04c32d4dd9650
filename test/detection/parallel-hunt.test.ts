/**
 * The hunt on worker threads reports what the hunt on one thread reports: the same matches in the same
 * order (rule matches, correlations, anomaly alerts), the same records, counts and errors. Real worker
 * threads, small pieces so that many pieces cross two workers and come back out of order.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleSet } from '../../src/detection/rule-set.js';
import { formatMatchCsv, formatMatchLine } from '../../src/hunt/format.js';
import { runHunt, type HuntMatch, type HuntOptions } from '../../src/hunt/hunt.js';
import { HuntPool } from '../../src/hunt/hunt-pool.js';
import { loadMapping, loadRules } from '../../src/hunt/rule-loader.js';
import { huntCli } from './helpers.js';
import { buildChunk, buildFile, type RecordSpec, type XNode } from '../ingest/evtx/evtx-builder.js';
import { HAVE_REGRESSION_DATA, SKIP_REASON, regressionEvtxFiles } from '../ingest/evtx/regression-data.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'rules', 'builtin');
const INTRUSION = join(import.meta.dirname, 'fixtures', 'builtin', 'intrusion.ndjson');

let dir: string;
let set: RuleSet;
let pool: HuntPool;
let intrusion: string;
let webLogs: string;

const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3600_000;

/** Thirty quiet hours of one user's downloads, then 600 MB in an hour: the web export anomaly. */
function accessLogs(): unknown[] {
  const out: unknown[] = [];
  const log = (ms: number, bytes: number) => ({
    '@timestamp': new Date(T0 + ms).toISOString(),
    'event.dataset': 'access_log',
    'event.category': ['web'],
    'source.ip': '10.20.0.15',
    'user.name': 'alice',
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'http.response.body.bytes': bytes,
    'url.original': '/api/export?q="{x}"',
  });
  for (let h = 0; h < 30; h++) for (let k = 0; k < 3; k++) out.push(log(h * HOUR + k * 600_000, 4_000_000));
  out.push(log(30 * HOUR + 60_000, 300_000_000), log(30 * HOUR + 120_000, 300_000_000));
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-parallel-hunt-'));
  const loaded = await loadRules([RULES], await loadMapping());
  expect(loaded.failures).toEqual([]);
  set = loaded.set;
  pool = await HuntPool.start(set, { threads: 2, pieceBytes: 2048 });
  // The intrusion timeline three times over (NDJSON), and the web logs pretty-printed and concatenated.
  const lines = (await readFile(INTRUSION, 'utf8')).trim();
  intrusion = join(dir, 'intrusion.ndjson');
  await writeFile(intrusion, `${lines}\n${lines}\n\n${lines}\n`);
  webLogs = join(dir, 'web.json');
  await writeFile(
    webLogs,
    accessLogs()
      .map((e) => JSON.stringify(e, null, 2))
      .join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await pool?.close();
  await rm(dir, { recursive: true, force: true });
});

async function hunt(
  inputs: string[],
  options: Partial<HuntOptions>,
): Promise<{ matches: HuntMatch[]; lines: string[]; events: number; error?: string }> {
  const matches: HuntMatch[] = [];
  const lines: string[] = [];
  try {
    const summary = await runHunt(inputs, set, {
      ...options,
      onMatch: (m) => {
        matches.push(m);
        lines.push(formatMatchLine(m));
      },
    });
    return { matches, lines, events: summary.events };
  } catch (error) {
    return { matches, lines, events: -1, error: (error as Error).message };
  }
}

describe('hunt on worker threads', () => {
  it('reports the same matches, correlations and anomaly alerts, in the same order, as one thread', async () => {
    const inputs = [intrusion, webLogs];
    const one = await hunt(inputs, {});
    const many = await hunt(inputs, { pool });
    expect(one.error).toBeUndefined();
    expect(many.error).toBeUndefined();
    expect(many.events).toBe(one.events);
    expect(many.lines).toEqual(one.lines);
    // What the comparison covers: rule matches, correlations (record null at the end, or completed
    // within the input), and the anomaly alert on the pretty-printed file.
    const ids = new Set(one.matches.map((m) => m.rule_id));
    expect(one.matches.length).toBeGreaterThan(20);
    expect(set.correlations.some((c) => ids.has(c.info.id))).toBe(true);
    expect(
      one.matches.some((m) => m.file === webLogs && m.rule_title.startsWith('Unusual data download')),
    ).toBe(true);
    // Events are parsed on demand, and equal to the ones parsed on one thread.
    expect(many.matches.map((m) => m.event)).toEqual(one.matches.map((m) => m.event));
    expect(many.matches.map((m) => m.record)).toEqual(one.matches.map((m) => m.record));
  });

  it('refuses a pool started for another rule set (its rule indices would name other rules)', async () => {
    const other = (await loadRules([RULES], await loadMapping())).set;
    await expect(runHunt([intrusion], other, { pool, onMatch: () => undefined })).rejects.toThrow(
      'pool: started for another rule set',
    );
  });

  it('ends with an error, not a hang, when a worker dies during a hunt', async () => {
    const doomed = await HuntPool.start(set, { threads: 2, pieceBytes: 2048 });
    try {
      const hunting = runHunt([intrusion, webLogs], set, { pool: doomed, onMatch: () => undefined });
      // A worker lost mid-hunt (a crash, an out-of-memory kill): its pieces never come back.
      const slots = (doomed as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> })
        .slots;
      await slots[0]!.worker.terminate();
      await expect(hunting).rejects.toThrow(/hunt worker exited with code/);
      // The pool stays failed: a later hunt on it fails at once.
      await expect(runHunt([intrusion], set, { pool: doomed, onMatch: () => undefined })).rejects.toThrow(
        /hunt worker exited/,
      );
    } finally {
      await doomed.close();
    }
  });

  it('counts matches per level and per host on the workers as on one thread', async () => {
    const summary = (options: Partial<HuntOptions>) =>
      runHunt([intrusion, webLogs], set, { ...options, onMatch: () => {} });
    const one = await summary({});
    const many = await summary({ pool });
    expect([...many.byLevel]).toEqual([...one.byLevel]);
    expect([...many.byHost]).toEqual([...one.byHost]);
    expect(one.byHost.size).toBeGreaterThan(1);
    expect([...one.byLevel.values()].reduce((a, b) => a + b, 0)).toBe(one.matches);
  });

  it('writes the same CSV rows from the workers as from one thread', async () => {
    const csv = async (options: Partial<HuntOptions>) => {
      const rows: string[] = [];
      await runHunt([intrusion, webLogs], set, { ...options, onMatch: (m) => rows.push(formatMatchCsv(m)) });
      return rows;
    };
    const one = await csv({});
    expect(one.length).toBeGreaterThan(20);
    expect(await csv({ pool })).toEqual(one);
  });

  it('reads gzip-compressed JSON on the workers as on one thread', async () => {
    const gz = join(dir, 'intrusion.ndjson.gz');
    await writeFile(gz, gzipSync(await readFile(intrusion)));
    const plain = await hunt([intrusion], {});
    const one = await hunt([gz], {});
    const many = await hunt([gz], { pool });
    expect(one.lines.length).toBeGreaterThan(20);
    expect(one.lines).toEqual(plain.lines.map((l) => l.split(intrusion).join(gz)));
    expect(many.lines).toEqual(one.lines);
  });

  it('reads the events of CloudTrail and Azure wrapper documents, on the workers as on one thread', async () => {
    const rules = await mkdtemp(join(tmpdir(), 'fb-wrapped-'));
    await writeFile(
      join(rules, 'stop-logging.yml'),
      `title: CloudTrail logging stopped
id: r-stop
level: high
logsource:
    product: aws
    service: cloudtrail
detection:
    sel:
        eventSource: cloudtrail.amazonaws.com
        eventName: StopLogging
    condition: sel
`,
    );
    const wrapped = await loadRules([rules], await loadMapping());
    const trail = (i: number, name: string) => ({
      eventVersion: '1.08',
      eventTime: new Date(T0 + i * 1000).toISOString().replace('.000', ''),
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: name,
      requestParameters: { name: `trail-${i}` },
    });
    const file = join(dir, 'cloudtrail.json.gz');
    const docs = [
      {
        Records: Array.from({ length: 300 }, (_, i) =>
          trail(i, i % 100 === 7 ? 'StopLogging' : 'DescribeTrails'),
        ),
      },
      { records: [trail(1000, 'StopLogging')] }, // Azure's spelling
      { Records: [trail(2000, 'StopLogging')], digestPublicKeyFingerprint: 'x' }, // not a wrapper
    ];
    await writeFile(file, gzipSync(docs.map((d) => JSON.stringify(d)).join('\n')));
    const run = async (threads: number) => {
      const out: HuntMatch[] = [];
      const summary = await runHunt([file], wrapped.set, { threads, onMatch: (m) => out.push(m) });
      return { out, lines: out.map(formatMatchLine), events: summary.events };
    };
    const one = await run(1);
    expect(one.events).toBe(302);
    expect(
      one.out.map((m) => [
        m.record,
        (m.event as { requestParameters: { name: string } }).requestParameters.name,
      ]),
    ).toEqual([
      [1, 'trail-7'],
      [1, 'trail-107'],
      [1, 'trail-207'],
      [2, 'trail-1000'],
    ]);
    expect(one.out[0]!.timestamp).toBe(new Date(T0 + 7000).toISOString());
    const two = await run(2);
    expect(two.lines).toEqual(one.lines);
    expect(two.events).toBe(302);
    await rm(rules, { recursive: true, force: true });
  });

  it('starts and closes its own workers with `threads`', async () => {
    const one = await hunt([intrusion], {});
    const two = await hunt([intrusion], { threads: 2 });
    expect(two.lines).toEqual(one.lines);
  });

  it('skips events outside a time window before detection, on the workers as on one thread', async () => {
    const from = Date.parse('2026-03-02T09:01:00Z');
    const to = Date.parse('2026-03-02T09:31:10Z');
    const all = await hunt([intrusion, webLogs], {});
    const one = await hunt([intrusion, webLogs], { window: { from, to } });
    const many = await hunt([intrusion, webLogs], { pool, window: { from, to } });
    expect(many.lines).toEqual(one.lines);
    expect(many.events).toBe(one.events);
    expect(one.events).toBe(all.events); // every event is read; those outside are not matched
    const times = (m: HuntMatch[]) => m.map((x) => Date.parse(x.timestamp!));
    expect(one.matches.length).toBeGreaterThan(5);
    for (const t of times(one.matches)) expect(t >= from && t <= to).toBe(true);
    expect(times(all.matches).some((t) => t < from || t > to)).toBe(true);
    // The SSH brute force begins before the window: inside it, too few attempts remain for the
    // correlation (and its "success after brute force"); the RDP brute force lies wholly inside.
    const titles = (m: HuntMatch[]) => new Set(m.map((x) => x.rule_title));
    expect(titles(all.matches)).toContain('SSH brute force from one address');
    expect(titles(one.matches)).not.toContain('SSH brute force from one address');
    expect(titles(one.matches)).not.toContain('SSH login success after brute force');
    expect(titles(one.matches)).toContain('Windows RDP or network logon brute force from one address');
  });

  it('stops at a malformed document with the same error, after the same matches', async () => {
    const lines = (await readFile(INTRUSION, 'utf8')).trim().split('\n');
    const broken = join(dir, 'broken.ndjson');
    await writeFile(broken, [...lines, ...lines.slice(0, 40), '{"event.action": ', ...lines].join('\n'));
    const one = await hunt([broken], {});
    const many = await hunt([broken], { pool });
    expect(one.error).toBe(
      `${broken}: record ${lines.length + 41}: invalid JSON (${one.error!.split('(')[1]}`,
    );
    expect(many.error).toBe(one.error);
    expect(many.lines).toEqual(one.lines);
    expect(one.lines.length).toBeGreaterThan(0);
    // The pool is still usable after the error.
    expect((await hunt([intrusion], { pool })).lines.length).toBeGreaterThan(0);
  });

  it('writes one-line events as the input has them, and pretty-printed ones compacted', async () => {
    const lines = (await readFile(INTRUSION, 'utf8')).trim().split('\n');
    const big = join(dir, 'big-number.ndjson');
    await writeFile(big, lines.map((l) => `{"big": 12345678901234567890,${l.slice(1)}`).join('\n'));
    for (const options of [{}, { pool }]) {
      const out = await hunt([big, webLogs], options);
      for (const line of out.lines) expect(line).not.toContain('\n');
      // The rule matches of the file: parsing would have rounded the number to 12345678901234567000.
      const withBig = out.lines.filter((l) => l.includes('"big":'));
      expect(withBig.length).toBeGreaterThan(3);
      for (const line of withBig) expect(line).toContain('"event":{"big": 12345678901234567890,');
      expect(out.lines.some((l) => l.includes(webLogs) && l.includes('Unusual data download'))).toBe(true);
    }
  });

  it('firebreak hunt --threads: the same output as one thread; a bad count is refused naming the flag', async () => {
    const one = await huntCli(['hunt', intrusion, webLogs, '--rules', RULES, '--json', '--threads', '1']);
    const two = await huntCli(['hunt', intrusion, webLogs, '--rules', RULES, '--json', '--threads', '2']);
    expect(one.code).toBe(0);
    expect(two.out).toBe(one.out);
    expect(one.out.split('\n').length).toBeGreaterThan(20);
    const bad = await huntCli(['hunt', intrusion, '--rules', RULES, '--threads', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--threads: must be a whole number from 1 to 256/);
    expect(bad.out).toBe('');
  });

  it('decodes and matches EVTX chunks on the workers: the same matches, records and correlations', async () => {
    // Three chunks of Security events: RDP logon failures from one address (a correlation), then a
    // successful logon and the log cleared.
    const el = (name: string, text: string | number): XNode => ({
      el: name,
      children: [{ text: String(text) }],
    });
    const data = (name: string, text: string | number): XNode => ({
      el: 'Data',
      attrs: [['Name', [{ text: name }]]],
      children: [{ text: String(text) }],
    });
    let id = 0;
    const record = (eventId: number, seconds: number, fields: XNode[]): RecordSpec => {
      id++;
      const system: XNode[] = [
        { el: 'Provider', attrs: [['Name', [{ text: 'Microsoft-Windows-Security-Auditing' }]]] },
        el('EventID', eventId),
        {
          el: 'TimeCreated',
          attrs: [['SystemTime', [{ text: new Date(T0 + seconds * 1000).toISOString() }]]],
        },
        el('EventRecordID', id),
        el('Channel', 'Security'),
        el('Computer', 'dc01.example.org'),
      ];
      return {
        id,
        nodes: [
          {
            el: 'Event',
            children: [
              { el: 'System', children: system },
              { el: 'EventData', children: fields },
            ],
          },
        ],
      };
    };
    const logon = (eventId: number, s: number) =>
      record(eventId, s, [
        data('TargetUserName', 'administrator'),
        data('LogonType', 10),
        data('IpAddress', '203.0.113.9'),
      ]);
    const chunks = [
      Array.from({ length: 8 }, (_, i) => logon(4625, i * 5)),
      Array.from({ length: 8 }, (_, i) => logon(4625, 40 + i * 5)),
      [logon(4624, 90), record(1102, 120, [data('SubjectUserName', 'administrator')])],
    ].map((records) => buildChunk(records).bytes);
    const evtx = join(dir, 'security.evtx');
    await writeFile(evtx, buildFile(chunks));
    // One chunk per piece: the three chunks cross both workers.
    const evtxPool = await HuntPool.start(set, { threads: 2, pieceBytes: 65536 });
    try {
      const one = await hunt([evtx, intrusion], {});
      const many = await hunt([evtx, intrusion], { pool: evtxPool });
      expect(one.error).toBeUndefined();
      expect(many.error).toBeUndefined();
      expect(many.events).toBe(one.events);
      expect(many.lines).toEqual(one.lines);
      const fromEvtx = one.matches.filter((m) => m.file === evtx);
      const titles = new Set(fromEvtx.map((m) => m.rule_title));
      expect(titles).toContain('Windows Security event log cleared');
      expect(titles).toContain('Windows RDP or network logon brute force from one address');
      expect(fromEvtx.find((m) => m.rule_title === 'Windows Security event log cleared')?.record).toBe(18);

      // The same file gzip-compressed, as collected logs often are: the same matches, on one thread and
      // on workers; a corrupt one is named.
      const gz = join(dir, 'security.evtx.gz');
      await writeFile(gz, gzipSync(buildFile(chunks)));
      const asPlain = (lines: string[]) => lines.map((l) => l.split(gz).join(evtx));
      const oneGz = await hunt([gz, intrusion], {});
      const manyGz = await hunt([gz, intrusion], { pool: evtxPool });
      expect(oneGz.error).toBeUndefined();
      expect(oneGz.events).toBe(one.events);
      expect(asPlain(oneGz.lines)).toEqual(one.lines);
      expect(manyGz.events).toBe(one.events);
      expect(asPlain(manyGz.lines)).toEqual(one.lines);
      const bad = join(dir, 'bad.evtx.gz');
      const good = gzipSync(buildFile(chunks));
      good[good.length - 5]! ^= 0xff; // the CRC
      await writeFile(bad, good);
      for (const options of [{}, { pool: evtxPool }]) {
        const res = await hunt([bad], options);
        expect(res.error).toContain(`${bad}: not a readable gzip file`);
      }
    } finally {
      await evtxPool.close();
    }
  });

  it.skipIf(!HAVE_REGRESSION_DATA)(
    `the SigmaHQ regression EVTX files: the same matches on workers as on one thread${HAVE_REGRESSION_DATA ? '' : ` (skipped: ${SKIP_REASON})`}`,
    async () => {
      const sigma = join(ROOT, '..', 'shared', 'data', 'sigma', 'rules', 'windows', 'process_creation');
      const loaded = await loadRules([sigma], await loadMapping());
      const files = regressionEvtxFiles();
      const run = async (options: Partial<HuntOptions>) => {
        const lines: string[] = [];
        const summary = await runHunt(files, loaded.set, {
          ...options,
          onMatch: (m) => lines.push(formatMatchLine(m)),
        });
        return { lines, events: summary.events };
      };
      const one = await run({});
      const many = await run({ threads: 2 });
      expect(many.events).toBe(one.events);
      expect(many.lines).toEqual(one.lines);
      expect(one.lines.length).toBeGreaterThan(20);
    },
    120_000,
  );
});
