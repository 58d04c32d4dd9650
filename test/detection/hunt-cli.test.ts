import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFile } from '../ingest/evtx/evtx-builder.js';
import { huntCli } from './helpers.js';

const evtx = (id: number, image: string, time: string, record: number) => ({
  Event: {
    System: {
      Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
      EventID: id,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      Computer: 'pc1',
      EventRecordID: record,
      TimeCreated: { '#attributes': { SystemTime: time } },
    },
    EventData: { Image: image, CommandLine: `${image} /c whoami` },
  },
});

const rule = (id: string, level: string, image: string) => `title: Rule ${id}
id: ${id}
level: ${level}
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        Image|endswith: '${image}'
    condition: sel
`;

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'fb-hunt-'));
  made.push(dir);
  await writeFile(join(dir, 'high.yml'), rule('r-high', 'high', '\\cmd.exe'));
  await writeFile(join(dir, 'low.yml'), rule('r-low', 'low', '\\whoami.exe'));
  const events = [
    evtx(1, 'C:\\Windows\\System32\\whoami.exe', '2024-01-01T10:00:02Z', 7),
    evtx(1, 'C:\\Windows\\System32\\cmd.exe', '2024-01-01T10:00:01Z', 8),
    evtx(11, 'C:\\Windows\\System32\\cmd.exe', '2024-01-01T10:00:03Z', 9), // file event: not process_creation
    {
      Event: {
        System: {
          EventID: 4688,
          Channel: 'Security',
          TimeCreated: { '#attributes': { SystemTime: '2024-01-01T10:00:00Z' } },
        },
        EventData: { NewProcessName: 'C:\\x\\cmd.exe' },
      },
    },
  ];
  const input = join(dir, 'events.json');
  await writeFile(input, events.map((e) => JSON.stringify(e, null, 2)).join('\n'));
  return { dir, input };
}

describe('firebreak hunt', () => {
  it('--json writes one match per line with the agreed keys, using the log-source mapping', async () => {
    const { dir, input } = await setup();
    const { out, code } = await huntCli(['hunt', input, '--rules', dir, '--json']);
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['rule_id'], l['record']])).toEqual([
      ['r-low', 1],
      ['r-high', 2],
      ['r-high', 4], // Security 4688: Image is renamed NewProcessName
    ]);
    expect(Object.keys(lines[0]!).sort()).toEqual([
      'event',
      'file',
      'level',
      'record',
      'rule_id',
      'rule_title',
      'timestamp',
    ]);
    expect(lines[0]!['timestamp']).toBe('2024-01-01T10:00:02.000Z');
    expect(lines[0]!['file']).toBe(input);
  });

  it('--min-level drops lower levels; the table is sorted by time with a summary', async () => {
    const { dir, input } = await setup();
    const json = await huntCli([
      'hunt',
      input,
      '--rules',
      join(dir, 'high.yml'),
      '--rules',
      join(dir, 'low.yml'),
      '--json',
      '--min-level',
      'high',
    ]);
    expect(
      json.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { rule_id: string }).rule_id),
    ).toEqual(['r-high', 'r-high']);
    const table = await huntCli(['hunt', input, '--rules', dir]);
    const rows = table.out.split('\n').filter((l) => l.startsWith('2024'));
    expect(rows.map((r) => r.slice(0, 24).trim())).toEqual([
      '2024-01-01T10:00:00.000Z',
      '2024-01-01T10:00:01.000Z',
      '2024-01-01T10:00:02.000Z',
    ]);
    expect(table.out).toMatch(/3 matches from 2 rules in 4 events/);
    expect(table.out).toContain('by level: 2 high, 1 low');
    // the 4688 event names no computer
    expect(table.out).toContain('hosts with the most rule matches: pc1 (2)\n');
  });
});

describe('firebreak hunt --csv', () => {
  it('writes a timeline with a header, Windows System fields and the event as read', async () => {
    const { dir, input } = await setup();
    const res = await huntCli(['hunt', input, '--rules', dir, '--csv']);
    expect(res.code).toBe(0);
    const rows = parse(res.out, { columns: true }) as Array<Record<string, string>>;
    expect(res.out.split('\n')[0]).toBe(
      'timestamp,level,rule_title,rule_id,computer,channel,event_id,record,file,details,event',
    );
    expect(rows.map((r) => [r['record'], r['rule_id'], r['event_id'], r['computer']])).toEqual([
      ['1', 'r-low', '1', 'pc1'],
      ['2', 'r-high', '1', 'pc1'],
      ['4', 'r-high', '4688', ''],
    ]);
    expect(rows[0]!['channel']).toBe('Microsoft-Windows-Sysmon/Operational');
    expect(rows[0]!['timestamp']).toBe('2024-01-01T10:00:02.000Z');
    expect(rows[0]!['details']).toBe('CommandLine=C:\\Windows\\System32\\whoami.exe /c whoami');
    expect(JSON.parse(rows[0]!['event']!)).toEqual(
      evtx(1, 'C:\\Windows\\System32\\whoami.exe', '2024-01-01T10:00:02Z', 7),
    );
    expect(res.err).toMatch(/3 matches from 2 rules in 4 events/);
  });

  it('defuses cells a spreadsheet would run as formulas, and refuses --json beside it', async () => {
    const { dir } = await setup();
    const event = evtx(1, 'C:\\x\\cmd.exe', '2024-01-01T10:00:01Z', 1);
    event.Event.System.Computer = '=HYPERLINK("http://evil.example/","x")';
    const input = join(dir, 'formula.ndjson');
    await writeFile(input, JSON.stringify(event));
    const res = await huntCli(['hunt', input, '--rules', dir, '--csv']);
    const rows = parse(res.out, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r['computer'])).toEqual(['\'=HYPERLINK("http://evil.example/","x")']);
    const both = await huntCli(['hunt', input, '--rules', dir, '--csv', '--json']);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/--csv.*cannot be used with option '--json'/);
  });
});

describe('firebreak hunt --status', () => {
  const withStatus = (id: string, image: string, status?: string) =>
    rule(id, 'high', image).replace('level: high\n', `level: high\n${status ? `status: ${status}\n` : ''}`);

  it('leaves out deprecated and unsupported rules unless asked, keeps rules without a status', async () => {
    const { input } = await setup();
    const rules = await mkdtemp(join(tmpdir(), 'fb-hunt-status-'));
    made.push(rules);
    await writeFile(join(rules, 'a.yml'), withStatus('r-stable', '\\cmd.exe', 'stable'));
    await writeFile(join(rules, 'b.yml'), withStatus('r-deprecated', '\\whoami.exe', 'deprecated'));
    await writeFile(join(rules, 'c.yml'), withStatus('r-unsupported', '\\cmd.exe', 'unsupported'));
    await writeFile(join(rules, 'd.yml'), withStatus('r-none', '\\whoami.exe'));
    const ids = (out: string) =>
      [
        ...new Set(
          out
            .trim()
            .split('\n')
            .map((l) => (JSON.parse(l) as { rule_id: string }).rule_id),
        ),
      ].sort();
    const byDefault = await huntCli(['hunt', input, '--rules', rules, '--json']);
    expect(ids(byDefault.out)).toEqual(['r-none', 'r-stable']);
    expect(byDefault.err).toContain(
      'left out 2 rules whose status is not stable, test, experimental (--status chooses)',
    );
    const chosen = await huntCli([
      'hunt',
      input,
      '--rules',
      rules,
      '--json',
      '--status',
      'deprecated',
      '--status',
      'unsupported',
    ]);
    expect(ids(chosen.out)).toEqual(['r-deprecated', 'r-none', 'r-unsupported']);
    const bad = await huntCli(['hunt', input, '--rules', rules, '--status', 'retired']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--status/);
  });

  it('keeps a rule of any status that a kept correlation counts', async () => {
    const { input } = await setup();
    const rules = await mkdtemp(join(tmpdir(), 'fb-hunt-status-'));
    made.push(rules);
    await writeFile(join(rules, 'base.yml'), withStatus('r-base', '\\whoami.exe', 'deprecated'));
    await writeFile(
      join(rules, 'corr.yml'),
      `title: Whoami seen
id: r-corr
status: test
level: high
correlation:
    type: event_count
    rules: [r-base]
    group-by: [Computer]
    timespan: 1h
    condition:
        gte: 1
`,
    );
    const res = await huntCli(['hunt', input, '--rules', rules, '--json']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('"rule_id":"r-corr"');
    expect(res.err).not.toContain('left out');
  });
});

describe('firebreak hunt inputs', () => {
  const matchedFiles = (out: string): string[] =>
    out
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { file: string }).file);

  it('searches folders recursively for log files, in path order, each file once', async () => {
    const { dir, input } = await setup();
    const logs = join(dir, 'logs');
    await mkdir(join(logs, 'b', 'c'), { recursive: true });
    await mkdir(join(logs, 'a'));
    const text = await readFile(input, 'utf8');
    await writeFile(join(logs, 'b', 'c', 'more.NDJSON'), text);
    await writeFile(join(logs, 'a', 'events.json'), text);
    await writeFile(join(logs, 'notes.txt'), text); // not a log file extension
    await symlink(logs, join(logs, 'b', 'loop')); // a link to a folder is not followed
    await symlink(input, join(logs, 'linked.jsonl')); // a link to a file is
    const res = await huntCli(['hunt', logs, join(logs, 'a', 'events.json'), '--rules', dir, '--json']);
    expect(res.code).toBe(0);
    const files = matchedFiles(res.out);
    expect([...new Set(files)]).toEqual([
      join(logs, 'a', 'events.json'),
      join(logs, 'b', 'c', 'more.NDJSON'),
      join(logs, 'linked.jsonl'),
    ]);
    expect(files.length).toBe(9); // three matches per file, the file named twice read once
    // gzip-compressed files count under the extension before .gz (EVTX too: read through gunzip)
    await writeFile(join(logs, 'b', 'old.json.gz'), gzipSync(text));
    await writeFile(join(logs, 'b', 'old.evtx.gz'), gzipSync(buildFile([])));
    const withGz = await huntCli(['hunt', logs, '--rules', dir, '--json']);
    expect(withGz.code).toBe(0);
    expect([...new Set(matchedFiles(withGz.out))]).toContain(join(logs, 'b', 'old.json.gz'));
    // the folder search reads the .evtx.gz: a corrupt one stops the hunt, named
    const corrupt = gzipSync(buildFile([]));
    corrupt[corrupt.length - 5]! ^= 0xff; // the CRC
    await writeFile(join(logs, 'b', 'old.evtx.gz'), corrupt);
    const withCorrupt = await huntCli(['hunt', logs, '--rules', dir, '--json']);
    expect(withCorrupt.code).not.toBe(0);
    expect(withCorrupt.err).toContain(`${join(logs, 'b', 'old.evtx.gz')}: not a readable gzip file`);
    const txt = await huntCli(['hunt', logs, '--rules', dir, '--json', '--extension', '.txt']);
    expect([...new Set(matchedFiles(txt.out))]).toEqual([join(logs, 'notes.txt')]);
  });

  it('refuses a missing input, an empty search and a bad extension, naming them', async () => {
    const { dir } = await setup();
    const missing = await huntCli(['hunt', join(dir, 'nope.json'), '--rules', dir]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`${join(dir, 'nope.json')}: no such file or folder`);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const none = await huntCli(['hunt', empty, '--rules', dir]);
    expect(none.code).toBe(2);
    expect(none.err).toContain(`no log files in ${empty} (extensions: evtx, json, jsonl, ndjson)`);
    expect(none.err).toContain('no log files to search');
    const bad = await huntCli(['hunt', empty, '--rules', dir, '--extension', '../x']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--extension: /);
  });

  it('--from and --to keep the events of a time window, both ends included', async () => {
    const { dir, input } = await setup();
    const records = async (...window: string[]) => {
      const res = await huntCli(['hunt', input, '--rules', dir, '--json', ...window]);
      expect(res.code).toBe(0);
      return {
        records: res.out
          .trim()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as { record: number }).record),
        err: res.err,
      };
    };
    expect((await records()).records).toEqual([1, 2, 4]);
    // 10:00:01 is record 2 (r-high), 10:00:02 record 1 (r-low); 10:00:00 (record 4) is before
    const both = await records('--from', '2024-01-01T10:00:01Z', '--to', '2024-01-01T11:00:02+01:00');
    expect(both.records).toEqual([1, 2]);
    expect(both.err).toMatch(/2 matches from 2 rules in 4 events, 2 of them outside the time window/);
    expect((await records('--to', '2024-01-01 10:00:01')).records).toEqual([2, 4]);
    expect((await records('--to', '2024-01-01')).records).toEqual([1, 2, 4]); // the whole day
    expect((await records('--from', '2024-01-02')).records).toEqual([]);
  });

  it('skips events without a time when a window is given', async () => {
    const { dir } = await setup();
    const input = join(dir, 'untimed.ndjson');
    const event = evtx(1, 'C:\\x\\cmd.exe', '2024-01-01T10:00:01Z', 1);
    delete (event.Event.System as Partial<typeof event.Event.System>).TimeCreated;
    await writeFile(input, JSON.stringify(event));
    expect((await huntCli(['hunt', input, '--rules', dir, '--json'])).out).toContain('r-high');
    expect((await huntCli(['hunt', input, '--rules', dir, '--json', '--from', '2000-01-01'])).out).toBe('');
  });

  it('refuses a bound that is not a date or time, and a window that ends before it starts', async () => {
    const { dir, input } = await setup();
    for (const value of ['yesterday', '2024-02-30', '2024-01-01T25:00Z', '1704067200']) {
      const res = await huntCli(['hunt', input, '--rules', dir, '--from', value]);
      expect(res.code, value).not.toBe(0);
      expect(res.err).toContain(`--from: not a date or time: "${value}"`);
      expect(res.out).toBe('');
    }
    const reversed = await huntCli([
      'hunt',
      input,
      '--rules',
      dir,
      '--from',
      '2024-01-02',
      '--to',
      '2024-01-01',
    ]);
    expect(reversed.code).toBe(2);
    expect(reversed.err).toContain('--from: is after --to');
  });
});

describe('firebreak rules validate', () => {
  it('lists failures with reasons and exits non-zero', async () => {
    const { dir } = await setup();
    await writeFile(
      join(dir, 'broken.yml'),
      rule('r-b', 'high', 'x').replace('Image|endswith', 'Image|frobnicate'),
    );
    const res = await huntCli(['rules', 'validate', dir, '--json']);
    const parsed = JSON.parse(res.out) as {
      total: number;
      compiled: number;
      failed: Array<{ file: string; reason: string }>;
    };
    expect(parsed.total).toBe(3);
    expect(parsed.compiled).toBe(2);
    expect(parsed.failed).toEqual([
      {
        file: join(dir, 'broken.yml'),
        reason: expect.stringMatching(/modifier "frobnicate"/) as unknown as string,
      },
    ]);
    expect(res.code).toBe(1);
    const ok = await huntCli(['rules', 'validate', join(dir, 'high.yml')]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/1\/1 rules compiled/);
  });
});
