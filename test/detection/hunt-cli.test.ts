import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerHuntCommands } from '../../src/cli/hunt-commands.js';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command('firebreak').exitOverride();
  registerHuntCommands(program, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    setExitCode: (c) => (code = c),
  });
  await program.parseAsync(['node', 'firebreak', ...args]);
  return { out, err, code };
}

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
    const { out, code } = await cli(['hunt', input, '--rules', dir, '--json']);
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
    const json = await cli([
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
    const table = await cli(['hunt', input, '--rules', dir]);
    const rows = table.out.split('\n').filter((l) => l.startsWith('2024'));
    expect(rows.map((r) => r.slice(0, 24).trim())).toEqual([
      '2024-01-01T10:00:00.000Z',
      '2024-01-01T10:00:01.000Z',
      '2024-01-01T10:00:02.000Z',
    ]);
    expect(table.out).toMatch(/3 matches from 2 rules in 4 events/);
  });
});

describe('firebreak rules validate', () => {
  it('lists failures with reasons and exits non-zero', async () => {
    const { dir } = await setup();
    await writeFile(
      join(dir, 'broken.yml'),
      rule('r-b', 'high', 'x').replace('Image|endswith', 'Image|frobnicate'),
    );
    const res = await cli(['rules', 'validate', dir, '--json']);
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
    const ok = await cli(['rules', 'validate', join(dir, 'high.yml')]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/1\/1 rules compiled/);
  });
});
