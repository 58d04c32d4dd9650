/**
 * Firebreak's built-in detection content (rules/builtin): every rule compiles with the shipped mapping,
 * and each scenario fires on a realistic event sequence and stays quiet on a near miss, through the real
 * Detector. Events are built in the shape the live pipeline hands the detector:
 * `{ product, ...flat ECS fields, ...(Windows raw: { Event }) }`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerHuntCommands } from '../../src/cli/hunt-commands.js';
import { Detector } from '../../src/detection/detector.js';
import { prepareEvent } from '../../src/detection/event.js';
import type { LogsourceMapping } from '../../src/detection/logsource.js';
import { buildRuleSet, compileRule } from '../../src/detection/rule-set.js';
import type { RuleSet } from '../../src/detection/rule-set.js';
import { parseSigmaYaml, type SigmaDocument } from '../../src/detection/sigma-rule.js';
import { listRuleFiles, loadMapping, loadRules } from '../../src/hunt/rule-loader.js';
import { detectionDocument } from '../../src/ingest/detection-document.js';
import type { FormatHint, ReceivedEvent } from '../../src/ingest/event-record.js';
import { normalise } from '../../src/ingest/normalise/index.js';
import { matcherFor, parseRule, ruleSetFrom, ruleYaml } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RULES = join(ROOT, 'rules', 'builtin');
const FIXTURES = join(import.meta.dirname, 'fixtures', 'builtin');

const BLOCKLIST = {
  firebreak_blocklist_ips: ['203.0.113.66', '2001:db8::66'],
  firebreak_blocklist_cidrs: ['198.51.100.0/24'],
};

let shipped: LogsourceMapping;
let rules: RuleSet;
let withBlocklist: RuleSet;

beforeAll(async () => {
  shipped = await loadMapping();
  const loaded = await loadRules([RULES], shipped);
  expect(loaded.failures).toEqual([]);
  rules = loaded.set;
  const listed = await loadRules([RULES], {
    ...shipped,
    placeholders: { ...shipped.placeholders, ...BLOCKLIST },
  });
  expect(listed.failures).toEqual([]);
  withBlocklist = listed.set;
});

/** Runs events through a fresh Detector (then flushes); returns the names of the rules reported. */
function detect(events: readonly unknown[], set: RuleSet = rules): string[] {
  const detector = new Detector(set);
  const out: string[] = [];
  for (const e of events)
    for (const d of detector.process(prepareEvent(e))) out.push(d.rule.name ?? d.rule.id);
  for (const d of detector.flush()) out.push(d.rule.name ?? d.rule.id);
  return out;
}

const count = (names: readonly string[], name: string): number => names.filter((n) => n === name).length;

// ---------------------------------------------------------------------------------------------------
// Event factories (the pipeline's document shape).

const T0 = Date.parse('2026-03-02T09:00:00Z');
/** ISO time `seconds` after T0. */
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function ssh(
  seconds: number,
  outcome: 'failure' | 'success',
  ip: string,
  user: string,
  host = 'bastion-01',
): Record<string, unknown> {
  const port = 40000 + Math.floor(seconds % 20000);
  return {
    product: 'linux',
    '@timestamp': at(seconds),
    'event.dataset': 'openssh',
    'event.category': ['authentication'],
    'event.action': 'ssh_login',
    'event.outcome': outcome,
    'user.name': user,
    'source.ip': ip,
    'source.port': port,
    'host.name': host,
    'process.name': 'sshd',
    'openssh.method': 'password',
    message:
      outcome === 'failure'
        ? `Failed password for ${user} from ${ip} port ${port} ssh2`
        : `Accepted password for ${user} from ${ip} port ${port} ssh2`,
  };
}

let record = 1000;

function windows(
  seconds: number,
  channel: string,
  eventId: number,
  data: Record<string, unknown>,
  extra: { provider?: string; computer?: string; ecs?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const computer = extra.computer ?? 'WS-042.corp.example';
  const time = at(seconds);
  return {
    product: 'windows',
    '@timestamp': time,
    'event.code': String(eventId),
    'host.name': computer,
    ...extra.ecs,
    Event: {
      System: {
        Provider: {
          '#attributes': { Name: extra.provider ?? 'Microsoft-Windows-Security-Auditing' },
        },
        EventID: eventId,
        Channel: channel,
        Computer: computer,
        EventRecordID: record++,
        TimeCreated: { '#attributes': { SystemTime: time } },
      },
      EventData: data,
    },
  };
}

/** Security 4625 (failure) or 4624 (success). */
function winLogon(
  seconds: number,
  outcome: 'failure' | 'success',
  ip: string,
  user: string,
  logonType: number,
  auth = 'NTLM',
): Record<string, unknown> {
  return windows(
    seconds,
    'Security',
    outcome === 'failure' ? 4625 : 4624,
    {
      SubjectUserSid: 'S-1-0-0',
      TargetUserName: user,
      TargetDomainName: 'CORP',
      Status: outcome === 'failure' ? '0xc000006d' : undefined,
      SubStatus: outcome === 'failure' ? '0xc000006a' : undefined,
      LogonType: logonType,
      LogonProcessName: auth === 'NTLM' ? 'NtLmSsp ' : 'Kerberos',
      AuthenticationPackageName: auth,
      WorkstationName: 'kali',
      ProcessName: '-',
      IpAddress: ip,
      IpPort: '0',
    },
    {
      computer: 'RDS-01.corp.example',
      ecs: {
        'event.category': ['authentication'],
        'event.action': outcome === 'failure' ? 'logon-failed' : 'logged-in',
        'event.outcome': outcome,
        'user.name': user,
        'source.ip': ip,
        'winlog.logon.type': logonType === 10 ? 'RemoteInteractive' : logonType === 3 ? 'Network' : 'Other',
      },
    },
  );
}

function sysmonProcess(seconds: number, image: string, commandLine: string): Record<string, unknown> {
  return windows(
    seconds,
    'Microsoft-Windows-Sysmon/Operational',
    1,
    {
      UtcTime: at(seconds).replace('T', ' ').replace('Z', ''),
      Image: image,
      OriginalFileName: image.split('\\').pop(),
      CommandLine: commandLine,
      User: 'CORP\\mallory',
      ParentImage: 'C:\\Windows\\System32\\cmd.exe',
    },
    { provider: 'Microsoft-Windows-Sysmon' },
  );
}

function sysmonFile(seconds: number, eventId: 2 | 11, path: string, computer = 'FS-01.corp.example') {
  return windows(
    seconds,
    'Microsoft-Windows-Sysmon/Operational',
    eventId,
    { Image: 'C:\\Users\\Public\\svc.exe', TargetFilename: path, User: 'CORP\\mallory' },
    { provider: 'Microsoft-Windows-Sysmon', computer },
  );
}

/** A syslog-family Linux event (sudo, shadow-utils, ...). */
function linux(
  seconds: number,
  program: string,
  message: string,
  extra: Record<string, unknown> = {},
  host = 'web-01',
): Record<string, unknown> {
  return {
    product: 'linux',
    '@timestamp': at(seconds),
    'event.dataset': program === 'sudo' ? 'sudo' : 'syslog',
    'host.name': host,
    'process.name': program,
    'process.pid': 4242,
    message,
    ...extra,
  };
}

/** sudo's log line for a command run as root, with the command extracted to process.command_line. */
function sudo(seconds: number, command: string, host = 'web-01'): Record<string, unknown> {
  return linux(
    seconds,
    'sudo',
    `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=${command}`,
    { 'user.name': 'alice', 'user.effective.name': 'root', 'process.command_line': command },
    host,
  );
}

/** sudo's log line only (a normaliser that does not extract the command). */
function sudoMessageOnly(seconds: number, command: string): Record<string, unknown> {
  return linux(seconds, 'sudo', `alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=${command}`, {
    'user.name': 'alice',
  });
}

/** An auditd EXECVE record normalised with its command line. */
function auditExec(seconds: number, commandLine: string): Record<string, unknown> {
  const args = commandLine.split(' ');
  return {
    product: 'linux',
    '@timestamp': at(seconds),
    'event.dataset': 'auditd',
    'event.category': ['process'],
    'event.type': ['start'],
    'host.name': 'db-02',
    'process.name': args[0]!.split('/').pop(),
    'process.executable': args[0],
    'process.args': args,
    'process.command_line': commandLine,
    'user.name': 'root',
    message: `type=EXECVE msg=audit(${(T0 / 1000 + seconds).toFixed(3)}:812): argc=${args.length} ${args
      .map((a, i) => `a${i}="${a}"`)
      .join(' ')}`,
  };
}

function accessLog(
  seconds: number,
  user: string,
  bytes: number,
  path = '/api/export',
): Record<string, unknown> {
  return {
    '@timestamp': at(seconds),
    'event.dataset': 'access_log',
    'event.category': ['web'],
    'source.ip': '10.20.0.15',
    'user.name': user,
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'http.response.body.bytes': bytes,
    'url.original': path,
  };
}

function zeekConn(seconds: number, src: string, dst: string, sent: number): Record<string, unknown> {
  return {
    '@timestamp': at(seconds),
    'event.dataset': 'zeek.conn',
    'event.category': ['network'],
    'source.ip': src,
    'source.port': 51515,
    'destination.ip': dst,
    'destination.port': 443,
    'network.transport': 'tcp',
    'source.bytes': sent,
    'destination.bytes': 4096,
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// ---------------------------------------------------------------------------------------------------

describe('built-in rules: the content itself', () => {
  it('every file compiles with the shipped mapping, and each rule carries its metadata', async () => {
    const files = await listRuleFiles(RULES);
    expect(files.length).toBeGreaterThanOrEqual(9);
    const docs: SigmaDocument[] = [];
    for (const f of files) docs.push(...parseSigmaYaml(await readFile(f, 'utf8')));
    expect(docs.length).toBe(34);
    const ids = new Set<string>();
    const names = new Set<string>();
    for (const d of docs) {
      const where = d.title;
      expect(d.id, where).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(ids.has(d.id!), `duplicate id in ${where}`).toBe(false);
      ids.add(d.id!);
      expect(d.name, where).toMatch(/^fb_[a-z0-9_]+$/);
      expect(names.has(d.name!), `duplicate name in ${where}`).toBe(false);
      names.add(d.name!);
      expect(d.description?.length ?? 0, where).toBeGreaterThan(20);
      expect(d.level, where).toBeDefined();
      expect(d.falsepositives.length, where).toBeGreaterThan(0);
      expect(
        d.tags.some((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t)),
        `${where} needs an ATT&CK technique tag`,
      ).toBe(true);
    }
    expect(rules.rules.length + rules.correlations.length).toBe(34);
    expect(rules.correlations.map((c) => c.info.name).sort()).toEqual([
      'fb_linux_new_admin_account',
      'fb_ssh_brute_force',
      'fb_ssh_password_spraying',
      'fb_ssh_success_after_brute_force',
      'fb_win_mass_file_encryption',
      'fb_win_new_admin_account',
      'fb_win_password_spraying',
      'fb_win_remote_logon_brute_force',
      'fb_win_success_after_brute_force',
    ]);
  });

  it('every rule requires literals the prefilter can look for (none runs on every event of its source)', () => {
    // A regex-only selection has no literal: the rule would run its regexes on every event (the live
    // pipeline's detection cost doubled on ordinary sudo and cron lines before the guards).
    const unguarded = rules.rules
      .filter((r) => r.variants.some((v) => v.need === null))
      .map((r) => r.info.name);
    expect(unguarded).toEqual([]);
  });
});

describe('SSH brute force, spraying and success after brute force', () => {
  const attacker = '203.0.113.50';

  it('10 failures from one address within 5 minutes raise one brute-force alert', () => {
    const events = range(12).map((i) => ssh(i * 20, 'failure', attacker, 'root'));
    const names = detect(events);
    expect(count(names, 'fb_ssh_brute_force')).toBe(1);
    // Base rules feed correlations only.
    expect(count(names, 'fb_ssh_login_failure')).toBe(0);
    expect(count(names, 'fb_ssh_password_spraying')).toBe(0);
  });

  it('near misses: 9 failures, 10 spread over 6 minutes, 10 from different addresses', () => {
    expect(detect(range(9).map((i) => ssh(i * 10, 'failure', attacker, 'root')))).toEqual([]);
    expect(detect(range(10).map((i) => ssh(i * 40, 'failure', attacker, 'root')))).toEqual([]);
    expect(detect(range(10).map((i) => ssh(i * 5, 'failure', `198.51.100.${i + 1}`, 'root')))).toEqual([]);
  });

  it('5 different user names failing from one address within 30 minutes is password spraying', () => {
    const users = ['admin', 'oracle', 'postgres', 'ubuntu', 'deploy'];
    const events = users.map((u, i) => ssh(i * 300, 'failure', attacker, u));
    const names = detect(events);
    expect(names).toEqual(['fb_ssh_password_spraying']);
  });

  it('spraying near misses: 4 user names tried many times, or 5 spread over more than 30 minutes', () => {
    const users = ['admin', 'oracle', 'postgres', 'ubuntu'];
    const repeated = range(8).map((i) => ssh(i * 60, 'failure', attacker, users[i % 4]!));
    expect(detect(repeated)).toEqual([]);
    const slow = ['admin', 'oracle', 'postgres', 'ubuntu', 'deploy'].map((u, i) =>
      ssh(i * 600, 'failure', attacker, u),
    );
    expect(detect(slow)).toEqual([]);
  });

  it('a success from the brute-forcing address within the hour raises success-after-brute-force', () => {
    const events = [
      ...range(10).map((i) => ssh(i * 15, 'failure', attacker, 'deploy')),
      ssh(600, 'success', attacker, 'deploy'),
    ];
    expect(detect(events)).toEqual(['fb_ssh_brute_force', 'fb_ssh_success_after_brute_force']);
  });

  it('success near misses: from another address, after more than an hour, or before the failures', () => {
    const failures = range(10).map((i) => ssh(i * 15, 'failure', attacker, 'deploy'));
    expect(detect([...failures, ssh(600, 'success', '192.0.2.10', 'deploy')])).toEqual([
      'fb_ssh_brute_force',
    ]);
    expect(detect([...failures, ssh(135 + 3700, 'success', attacker, 'deploy')])).toEqual([
      'fb_ssh_brute_force',
    ]);
    expect(
      detect([
        ssh(0, 'success', attacker, 'deploy'),
        ...failures.map((e, i) => ({ ...e, '@timestamp': at(60 + i * 15) })),
      ]),
    ).toEqual(['fb_ssh_brute_force']);
  });
});

describe('Windows RDP / network logon brute force, spraying and success after brute force', () => {
  const attacker = '198.51.100.7';

  it('10 failed RDP logons (type 10) from one address within 5 minutes raise one alert', () => {
    const names = detect(range(10).map((i) => winLogon(i * 10, 'failure', attacker, 'Administrator', 10)));
    expect(names).toEqual(['fb_win_remote_logon_brute_force']);
  });

  it('NLA failures (type 3, NTLM) count too', () => {
    const names = detect(range(10).map((i) => winLogon(i * 10, 'failure', attacker, 'Administrator', 3)));
    expect(names).toEqual(['fb_win_remote_logon_brute_force']);
  });

  it('near misses: 9 failures, local console failures (type 2), local address "-"', () => {
    expect(detect(range(9).map((i) => winLogon(i * 10, 'failure', attacker, 'Administrator', 10)))).toEqual(
      [],
    );
    expect(detect(range(12).map((i) => winLogon(i * 10, 'failure', attacker, 'Administrator', 2)))).toEqual(
      [],
    );
    expect(detect(range(12).map((i) => winLogon(i * 10, 'failure', '-', 'Administrator', 3)))).toEqual([]);
  });

  it('5 accounts failing from one address (4625 and Kerberos 4771) within 30 minutes is spraying', () => {
    const kerberos = (seconds: number, user: string) =>
      windows(seconds, 'Security', 4771, {
        TargetUserName: user,
        TargetSid: 'S-1-5-21-1-2-3-1104',
        ServiceName: 'krbtgt/CORP.EXAMPLE',
        Status: '0x18',
        PreAuthType: '2',
        IpAddress: attacker,
        IpPort: '51234',
      });
    const events = [
      winLogon(0, 'failure', attacker, 'j.smith', 3),
      winLogon(120, 'failure', attacker, 'a.jones', 3),
      kerberos(240, 'm.brown'),
      kerberos(360, 'k.white'),
      winLogon(480, 'failure', attacker, 'svc_backup', 10),
    ];
    expect(detect(events)).toEqual(['fb_win_password_spraying']);
    // Near miss: only four accounts; a machine account's Kerberos failure does not count.
    expect(detect([...events.slice(0, 4), kerberos(480, 'WS-042$')])).toEqual([]);
  });

  it('a remote logon success from the brute-forcing address raises success-after-brute-force', () => {
    const failures = range(10).map((i) => winLogon(i * 10, 'failure', attacker, 'Administrator', 3));
    expect(detect([...failures, winLogon(300, 'success', attacker, 'Administrator', 10)])).toEqual([
      'fb_win_remote_logon_brute_force',
      'fb_win_success_after_brute_force',
    ]);
    // Near misses: a Kerberos network logon, or a success from another address.
    expect(detect([...failures, winLogon(300, 'success', attacker, 'Administrator', 3, 'Kerberos')])).toEqual(
      ['fb_win_remote_logon_brute_force'],
    );
    expect(detect([...failures, winLogon(300, 'success', '10.1.1.1', 'Administrator', 10)])).toEqual([
      'fb_win_remote_logon_brute_force',
    ]);
  });
});

describe('new administrator accounts', () => {
  const sid = 'S-1-5-21-3623811015-3361044348-30300820-1013';
  const created = (seconds: number) =>
    windows(seconds, 'Security', 4720, {
      TargetUserName: 'helpdesk2',
      TargetDomainName: 'WS-042',
      TargetSid: sid,
      SubjectUserName: 'mallory',
      SamAccountName: 'helpdesk2',
    });
  const added = (seconds: number, memberSid: string, groupSid: string, groupName: string, id = 4732) =>
    windows(seconds, 'Security', id, {
      MemberName: '-',
      MemberSid: memberSid,
      TargetUserName: groupName,
      TargetDomainName: 'Builtin',
      TargetSid: groupSid,
      SubjectUserName: 'mallory',
    });

  it('Windows: 4720 then 4732 to Administrators for the same SID raises both alerts', () => {
    const names = detect([created(0), added(5, sid, 'S-1-5-32-544', 'Administrators')]);
    expect(names.sort()).toEqual(['fb_win_new_admin_account', 'fb_win_privileged_group_member_added']);
  });

  it('Windows: Domain Admins through 4728, recognised by the group SID whatever its name', () => {
    const names = detect([
      created(0),
      added(60, sid, 'S-1-5-21-3623811015-3361044348-30300820-512', 'Domänen-Admins', 4728),
    ]);
    expect(names.sort()).toEqual(['fb_win_new_admin_account', 'fb_win_privileged_group_member_added']);
  });

  it('Windows near misses: another account, an ordinary group, more than an hour later', () => {
    expect(detect([created(0), added(5, 'S-1-5-21-1-2-3-1500', 'S-1-5-32-544', 'Administrators')])).toEqual([
      'fb_win_privileged_group_member_added',
    ]);
    expect(detect([created(0), added(5, sid, 'S-1-5-32-545', 'Users')])).toEqual([]);
    expect(detect([created(0), added(3700, sid, 'S-1-5-32-544', 'Administrators')])).toEqual([
      'fb_win_privileged_group_member_added',
    ]);
  });

  it('Linux: useradd then usermod into sudo (shadow-utils syslog) raises both alerts', () => {
    const events = [
      linux(
        0,
        'useradd',
        'new user: name=backdoor, UID=1002, GID=1002, home=/home/backdoor, shell=/bin/bash, from=/dev/pts/1',
      ),
      linux(20, 'usermod', "add 'backdoor' to group 'sudo'"),
      linux(20, 'usermod', "add 'backdoor' to shadow group 'sudo'"),
    ];
    expect(detect(events).sort()).toEqual([
      'fb_linux_admin_group_member_added',
      'fb_linux_new_admin_account',
    ]);
  });

  it('Linux: sudo and auditd command lines, and the sudo message alone', () => {
    expect(detect([sudo(0, '/usr/sbin/usermod -aG sudo bob')])).toEqual([
      'fb_linux_admin_group_member_added',
    ]);
    // One command that creates an account inside an admin group is a new administrator account too.
    expect(detect([sudo(0, '/usr/sbin/useradd -m -G wheel,docker eve')]).sort()).toEqual([
      'fb_linux_admin_group_member_added',
      'fb_linux_new_admin_account',
    ]);
    expect(detect([auditExec(0, '/usr/bin/gpasswd -a bob wheel')])).toEqual([
      'fb_linux_admin_group_member_added',
    ]);
    expect(detect([sudoMessageOnly(0, '/usr/sbin/adduser bob sudo')])).toEqual([
      'fb_linux_admin_group_member_added',
    ]);
    expect(
      detect([
        sudo(0, '/usr/sbin/useradd -m eve'),
        sudo(30, '/usr/sbin/usermod --append --groups sudo eve'),
      ]).sort(),
    ).toEqual(['fb_linux_admin_group_member_added', 'fb_linux_new_admin_account']);
  });

  it('Linux near misses: other groups, user creation alone, the group change on another host', () => {
    expect(detect([sudo(0, '/usr/sbin/usermod -aG docker bob')])).toEqual([]);
    expect(detect([sudo(0, '/usr/sbin/usermod -aG docker sudoers-test')])).toEqual([]);
    expect(detect([sudo(0, '/usr/sbin/adduser --disabled-password bob')])).toEqual([]);
    expect(detect([linux(0, 'usermod', "add 'bob' to group 'docker'")])).toEqual([]);
    expect(
      detect([
        sudo(0, '/usr/sbin/useradd -m eve', 'web-01'),
        sudo(30, '/usr/sbin/usermod -aG sudo eve', 'web-02'),
      ]),
    ).toEqual(['fb_linux_admin_group_member_added']);
  });
});

describe('log clearing', () => {
  it('Windows: Security 1102, System 104, wevtutil cl, Clear-EventLog, 4688 and script blocks', () => {
    expect(
      detect([
        windows(
          0,
          'Security',
          1102,
          { SubjectUserName: 'mallory' },
          { provider: 'Microsoft-Windows-Eventlog' },
        ),
      ]),
    ).toEqual(['fb_win_security_log_cleared']);
    expect(
      detect([
        windows(
          0,
          'System',
          104,
          { SubjectUserName: 'mallory', Channel: 'Application' },
          { provider: 'Microsoft-Windows-Eventlog' },
        ),
      ]),
    ).toEqual(['fb_win_event_log_cleared']);
    expect(
      detect([sysmonProcess(0, 'C:\\Windows\\System32\\wevtutil.exe', 'wevtutil.exe cl Security')]),
    ).toEqual(['fb_win_log_clear_command']);
    expect(
      detect([
        sysmonProcess(
          0,
          'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
          'powershell -nop -c "Clear-EventLog -LogName Security,System"',
        ),
      ]),
    ).toEqual(['fb_win_log_clear_command']);
    expect(
      detect([
        windows(0, 'Security', 4688, {
          NewProcessName: 'C:\\Windows\\System32\\wevtutil.exe',
          CommandLine: 'wevtutil  clear-log "Windows PowerShell"',
        }),
      ]),
    ).toEqual(['fb_win_log_clear_command']);
    expect(
      detect([
        windows(
          0,
          'Microsoft-Windows-PowerShell/Operational',
          4104,
          { ScriptBlockText: 'Get-EventLog -List | ForEach-Object { Clear-EventLog $_.Log }' },
          { provider: 'Microsoft-Windows-PowerShell' },
        ),
      ]),
    ).toEqual(['fb_win_log_clear_script_block']);
  });

  it('Windows near misses: querying logs, 104 from another provider', () => {
    expect(
      detect([sysmonProcess(0, 'C:\\Windows\\System32\\wevtutil.exe', 'wevtutil qe Security /c:5 /f:text')]),
    ).toEqual([]);
    expect(
      detect([
        sysmonProcess(
          0,
          'C:\\Windows\\System32\\wevtutil.exe',
          'wevtutil gl Microsoft-Windows-Sysmon/Operational',
        ),
      ]),
    ).toEqual([]);
    expect(detect([windows(0, 'System', 104, { Channel: 'x' }, { provider: 'Some-Driver' })])).toEqual([]);
  });

  it('Linux: truncation, deletion and history clearing through sudo and auditd', () => {
    const logs = 'fb_linux_log_clearing';
    const history = 'fb_linux_history_clearing';
    expect(detect([sudo(0, '/usr/bin/truncate -s 0 /var/log/auth.log')])).toEqual([logs]);
    expect(detect([sudoMessageOnly(0, '/usr/bin/rm -f /var/log/secure /var/log/messages')])).toEqual([logs]);
    expect(detect([auditExec(0, 'shred -u /var/log/wtmp')])).toEqual([logs]);
    expect(detect([sudo(0, "/bin/sh -c 'cat /dev/null > /var/log/syslog'")])).toEqual([logs]);
    expect(detect([sudo(0, '/usr/bin/journalctl --rotate --vacuum-time=1s')])).toEqual([logs]);
    expect(detect([auditExec(0, 'rm -f /root/.bash_history')])).toEqual([history]);
    expect(detect([auditExec(0, 'ln -sf /dev/null /home/alice/.bash_history')])).toEqual([history]);
    expect(detect([sudo(0, "/bin/bash -c 'history -c; export HISTFILE=/dev/null'")])).toEqual([history]);
  });

  it('Linux near misses: reading logs, appending to logs, deleting elsewhere', () => {
    expect(
      detect([
        sudo(0, '/usr/bin/tail -n 100 /var/log/syslog'),
        sudo(1, "/bin/sh -c 'echo rotated >> /var/log/custom.log'"),
        sudo(2, '/usr/bin/rm -rf /tmp/build'),
        auditExec(3, 'cat /root/.bash_history'),
        sudo(4, '/usr/bin/journalctl -u nginx --since today'),
        auditExec(5, 'grep HISTSIZE=1000 /etc/profile'),
      ]),
    ).toEqual([]);
  });
});

describe('ransomware-like behaviour', () => {
  it('shadow copy deletion, backup catalog deletion and recovery disabled', () => {
    const cases: Array<[string, string]> = [
      ['C:\\Windows\\System32\\vssadmin.exe', 'vssadmin.exe Delete Shadows /All /Quiet'],
      ['C:\\Windows\\System32\\wbem\\WMIC.exe', 'wmic shadowcopy delete /nointeractive'],
      ['C:\\Windows\\System32\\wbadmin.exe', 'wbadmin DELETE CATALOG -quiet'],
      ['C:\\Windows\\System32\\bcdedit.exe', 'bcdedit /set {default} recoveryenabled No'],
      [
        'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        'powershell -c "Get-WmiObject Win32_Shadowcopy | ForEach-Object { $_.Delete() }"',
      ],
    ];
    for (const [image, cmd] of cases)
      expect(detect([sysmonProcess(0, image, cmd)]), cmd).toEqual(['fb_win_inhibit_recovery']);
  });

  it('near misses: listing shadows, enabling recovery, starting a backup', () => {
    expect(
      detect([
        sysmonProcess(0, 'C:\\Windows\\System32\\vssadmin.exe', 'vssadmin list shadows'),
        sysmonProcess(1, 'C:\\Windows\\System32\\bcdedit.exe', 'bcdedit /set {default} recoveryenabled Yes'),
        sysmonProcess(
          2,
          'C:\\Windows\\System32\\wbadmin.exe',
          'wbadmin start backup -backupTarget:E: -include:C:',
        ),
      ]),
    ).toEqual([]);
  });

  it('50 files with a ransomware extension within a minute on one host raise mass file encryption', () => {
    const events = range(60).map((i) =>
      sysmonFile(i * 0.5, 11, `C:\\Shares\\Finance\\2025\\report-${i}.xlsx.lockbit`),
    );
    expect(detect(events)).toEqual(['fb_win_mass_file_encryption']);
    // Ransom notes, Sysmon 2 and Security 4663 count as well.
    const mixed = range(50).map((i) =>
      i % 3 === 0
        ? sysmonFile(i, 11, `C:\\Users\\bob\\Documents\\dir${i}\\HOW_TO_DECRYPT.txt`)
        : i % 3 === 1
          ? sysmonFile(i, 2, `C:\\Users\\bob\\Documents\\photo${i}.jpg.akira`)
          : windows(
              i,
              'Security',
              4663,
              {
                ObjectType: 'File',
                ObjectName: `C:\\Users\\bob\\Documents\\notes${i}.docx.encrypted`,
                AccessMask: '0x2',
              },
              { computer: 'FS-01.corp.example' },
            ),
    );
    expect(detect(mixed)).toEqual(['fb_win_mass_file_encryption']);
  });

  it('near misses: 40 files, 60 files over five minutes, 60 ordinary files, 60 files spread over two hosts', () => {
    expect(detect(range(40).map((i) => sysmonFile(i, 11, `C:\\S\\f${i}.docx.locked`)))).toEqual([]);
    expect(detect(range(60).map((i) => sysmonFile(i * 5, 11, `C:\\S\\f${i}.docx.locked`)))).toEqual([]);
    expect(detect(range(60).map((i) => sysmonFile(i, 11, `C:\\S\\f${i}.docx`)))).toEqual([]);
    expect(
      detect(
        range(60).map((i) => sysmonFile(i / 2, 11, `C:\\S\\f${i}.docx.locked`, i % 2 === 0 ? 'A' : 'B')),
      ),
    ).toEqual([]);
  });
});

describe('unusual data export (anomaly rules)', () => {
  const HOUR = 3600;
  /** 30 hours of ordinary activity (3 requests an hour, about 12 MB in all), then `spike` bytes in hour 30. */
  const webHistory = (user: string, hourly: number, spike: number, hours = 30) => [
    ...range(hours).flatMap((h) =>
      range(3).map((k) => accessLog(h * HOUR + k * 600, user, Math.round(hourly / 3))),
    ),
    accessLog(hours * HOUR + 60, user, spike / 2),
    accessLog(hours * HOUR + 120, user, spike / 2),
  ];

  it('a user downloading 600 MB in an hour after 30 quiet hours raises the web export anomaly', () => {
    expect(detect(webHistory('alice', 12_000_000, 600_000_000))).toEqual(['fb_web_unusual_data_export']);
  });

  it("near misses: below the 500 MB floor, under 10x a heavy user's median, too little history", () => {
    expect(detect(webHistory('bob', 12_000_000, 400_000_000))).toEqual([]);
    expect(detect(webHistory('carol', 200_000_000, 1_200_000_000))).toEqual([]);
    expect(detect(webHistory('dave', 12_000_000, 900_000_000, 10))).toEqual([]);
    // Anonymous requests are not attributed to anyone.
    expect(detect(webHistory('-', 12_000_000, 900_000_000))).toEqual([]);
  });

  it('an internal host uploading 3 GB to the internet in an hour raises the Zeek volume anomaly', () => {
    const events = [
      ...range(30).map((h) => zeekConn(h * HOUR + 100, '10.0.4.21', '93.184.216.34', 50_000_000)),
      zeekConn(30 * HOUR + 100, '10.0.4.21', '185.199.108.133', 3_000_000_000),
    ];
    expect(detect(events)).toEqual(['fb_zeek_unusual_outbound_volume']);
    // Near miss: the same volume to an internal backup server.
    const internal = [
      ...range(30).map((h) => zeekConn(h * HOUR + 100, '10.0.4.21', '10.0.9.9', 50_000_000)),
      zeekConn(30 * HOUR + 100, '10.0.4.21', '10.0.9.9', 3_000_000_000),
    ];
    expect(detect(internal)).toEqual([]);
  });
});

describe('blocklisted addresses (expand placeholders)', () => {
  const events = [
    zeekConn(0, '10.0.4.21', '203.0.113.66', 1200),
    { ...zeekConn(1, '198.51.100.23', '10.0.4.21', 300), 'event.dataset': 'suricata.eve' },
    windows(
      2,
      'Microsoft-Windows-Sysmon/Operational',
      3,
      {
        Image: 'C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe',
        Protocol: 'tcp',
        Initiated: 'true',
        SourceIp: '10.0.4.21',
        DestinationIp: '2001:db8::66',
        DestinationPort: 443,
      },
      { provider: 'Microsoft-Windows-Sysmon' },
    ),
    winLogon(3, 'failure', '198.51.100.200', 'Administrator', 10),
    windows(4, 'Security', 4771, { TargetUserName: 'bob', Status: '0x18', IpAddress: '::ffff:198.51.100.9' }),
  ];
  const misses = [
    zeekConn(10, '10.0.4.21', '203.0.113.67', 1200),
    winLogon(11, 'failure', '198.51.101.1', 'Administrator', 10),
  ];

  it('with lists configured, every kind of event naming a listed address or network fires', () => {
    expect(detect([...events, ...misses], withBlocklist)).toEqual([
      'fb_net_blocklisted_address',
      'fb_net_blocklisted_address',
      'fb_win_blocklisted_address_connection',
      'fb_win_blocklisted_address_logon',
      'fb_win_blocklisted_address_logon',
    ]);
  });

  it('with the shipped empty lists, the rules compile and match nothing', () => {
    expect(shipped.placeholders['firebreak_blocklist_ips']).toEqual([]);
    expect(shipped.placeholders['firebreak_blocklist_cidrs']).toEqual([]);
    expect(detect([...events, ...misses])).toEqual([]);
  });
});

describe('engine: expand placeholders configured with no values', () => {
  const mapping = (values: Record<string, string[]>): LogsourceMapping => ({
    entries: [],
    productFields: {},
    placeholders: values,
  });

  it('an unknown placeholder still fails the rule; an empty one matches nothing', () => {
    const rule = (body: string) => parseRule(ruleYaml(body));
    expect(() => compileRule(rule(`s:\n    ip|expand: '%nothing%'\ncondition: s`), mapping({}))).toThrow(
      /no values configured for placeholder %nothing%/,
    );
    const empty = mapping({ list: [] });
    const plain = matcherFor(`s:\n    ip|expand: '%list%'\ncondition: s`, empty);
    expect(plain({ ip: '' })).toBe(false);
    expect(plain({ ip: '%list%' })).toBe(false);
    const all = matcherFor(`s:\n    ip|expand|all: ['%list%', 'x']\ncondition: s`, empty);
    expect(all({ ip: 'x' })).toBe(false);
    const negated = matcherFor(`s:\n    ip|expand|neq: '%list%'\ncondition: s`, empty);
    expect(negated({ ip: '1.2.3.4' })).toBe(true);
    const other = matcherFor(`s:\n    ip|expand: '%list%'\nt:\n    user: bob\ncondition: s or t`, empty);
    expect(other({ user: 'bob' })).toBe(true);
    expect(other({ ip: 'bob' })).toBe(false);
  });

  it('expand feeds cidr; an empty list matches nothing', () => {
    const m = matcherFor(
      `s:\n    ip|expand|cidr: '%nets%'\ncondition: s`,
      mapping({ nets: ['10.0.0.0/8', '2001:db8::/32'] }),
    );
    expect(m({ ip: '10.2.3.4' })).toBe(true);
    expect(m({ ip: '2001:db8::1' })).toBe(true);
    expect(m({ ip: '11.0.0.1' })).toBe(false);
    const none = matcherFor(`s:\n    ip|expand|cidr: '%nets%'\ncondition: s`, mapping({ nets: [] }));
    expect(none({ ip: '10.2.3.4' })).toBe(false);
    expect(() =>
      compileRule(
        parseRule(ruleYaml(`s:\n    ip|expand|cidr: '%nets%'\ncondition: s`)),
        mapping({ nets: ['not-a-net'] }),
      ),
    ).toThrow(/not a CIDR range/);
  });
});

describe('firebreak hunt and rules validate on the built-in rules', () => {
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

  it('rules validate passes on rules/builtin with the shipped (empty) blocklists', async () => {
    const { out, code } = await cli(['rules', 'validate', RULES, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ total: 34, compiled: 34, failed: [] });
  });

  it('hunt over an NDJSON intrusion timeline reports each stage once, in time order', async () => {
    const { out, code } = await cli(['hunt', join(FIXTURES, 'intrusion.ndjson'), '--rules', RULES, '--json']);
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { rule_id: string; rule_title: string; timestamp: string; event: unknown })
      // Detections raised by the same event come in rule order; sort them by time, then title.
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.rule_title.localeCompare(b.rule_title));
    expect(lines.map((l) => l.rule_title)).toEqual([
      'SSH brute force from one address',
      'SSH login success after brute force',
      'Linux account added to an administrative group',
      'New Linux administrator account',
      'Linux shell history cleared or disabled',
      'Windows RDP or network logon brute force from one address',
      'Windows remote logon success after brute force',
      'Account added to a privileged Windows group',
      'New Windows administrator account',
      'Shadow copies or backups deleted, or recovery disabled',
      'Mass file encryption (ransomware-like file activity)',
      'Windows Security event log cleared',
    ]);
    const brute = lines[0]!.event as { group: Record<string, unknown>; value: number };
    expect(brute.group).toEqual({ 'source.ip': '203.0.113.50' });
    expect(brute.value).toBe(10);
  });
});

describe('engine: temporal_ordered with one event matching several of its rules', () => {
  const ruleA = `title: A\nid: 00000000-0000-4000-8000-00000000000a\nname: rule_a\nlogsource:\n    product: test\ndetection:\n    s:\n        kind: created\n    condition: s\n`;
  const ruleB = `title: B\nid: 00000000-0000-4000-8000-00000000000b\nname: rule_b\nlogsource:\n    product: test\ndetection:\n    s:\n        group: wheel\n    condition: s\n`;
  const correlation = `title: A then B\nid: 00000000-0000-4000-8000-0000000000ab\nname: a_then_b\ncorrelation:\n    type: temporal_ordered\n    rules: [rule_a, rule_b]\n    group-by: [host]\n    timespan: 1h\n`;

  it('counts the event in the listed order whatever order the rules are defined in', () => {
    const event = { '@timestamp': at(0), host: 'h1', kind: 'created', group: 'wheel' };
    for (const order of [
      [ruleA, ruleB],
      [ruleB, ruleA],
    ]) {
      const set = ruleSetFrom([...order, correlation]);
      expect(detect([event], set)).toEqual(['a_then_b']);
    }
    // Two events: B strictly before A is not the listed order.
    const set = ruleSetFrom([ruleB, ruleA, correlation]);
    expect(
      detect(
        [
          { '@timestamp': at(0), host: 'h1', group: 'wheel' },
          { '@timestamp': at(1), host: 'h1', kind: 'created' },
        ],
        set,
      ),
    ).toEqual([]);
  });
});

describe('tuning with a filter document (docs/builtin-rules.md)', () => {
  it('a filter on the base rule keeps a known scanner out of the SSH brute-force count', async () => {
    const filter = `title: Our vulnerability scanner
id: 7d0c2f43-9a51-4d0e-8a39-3b1f3c0f5e11
logsource:
    product: linux
    service: sshd
filter:
    rules:
        - fb_ssh_login_failure
    scanner:
        source.ip: 10.0.0.99
    condition: scanner
`;
    const docs = [
      ...(
        await Promise.all(
          (await listRuleFiles(RULES)).map(async (f) => ({ f, text: await readFile(f, 'utf8') })),
        )
      ).flatMap(({ f, text }) => parseSigmaYaml(text).map((doc) => ({ doc, file: f }))),
      ...parseSigmaYaml(filter).map((doc) => ({ doc, file: 'local/scanner.yml' })),
    ];
    const built = buildRuleSet(docs, shipped);
    expect(built.failures).toEqual([]);
    const scan = range(12).map((i) => ssh(i * 5, 'failure', '10.0.0.99', 'root'));
    const attack = range(12).map((i) => ssh(i * 5, 'failure', '10.0.0.98', 'root'));
    expect(detect(scan, built.set)).toEqual([]);
    expect(detect(attack, built.set)).toEqual(['fb_ssh_brute_force']);
  });
});

describe('through the real normaliser (raw lines -> normalise -> detection document -> Detector)', () => {
  let n = 0;
  const received = (raw: string | Record<string, unknown>, format: FormatHint): ReceivedEvent => ({
    id: `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    orgId: 'org',
    receivedAt: '2026-03-02T12:00:00.000Z',
    source: { kind: 'syslog', name: 'test', peer: '10.0.0.2:514' },
    format,
    raw,
  });
  const documents = (events: readonly ReceivedEvent[]) =>
    events.map((e) => detectionDocument(e, normalise(e)));

  it('an SSH intrusion on a Linux host: each stage raises its alert, each attempt counts once', async () => {
    const lines = (await readFile(join(FIXTURES, 'linux-intrusion.log'), 'utf8')).trim().split('\n');
    const docs = documents(lines.map((l) => received(l, 'auto')));
    expect(docs[1]).toMatchObject({
      product: 'linux',
      'event.dataset': 'openssh',
      'source.ip': '203.0.113.50',
    });
    const names = detect(docs);
    expect(names.filter((x) => x !== 'fb_linux_admin_group_member_added')).toEqual([
      'fb_ssh_password_spraying',
      'fb_ssh_brute_force',
      'fb_ssh_success_after_brute_force',
      'fb_linux_new_admin_account',
      'fb_linux_log_clearing',
      'fb_linux_history_clearing',
    ]);
    // The sudo line and usermod's own line both record the change; the shadow-group line does not count.
    expect(count(names, 'fb_linux_admin_group_member_added')).toBe(2);
    // Near miss: the first 9 attempts give 22 failed-login events (Invalid user, PAM, Failed lines) but
    // count as 9 attempts.
    const firstNine = lines.slice(
      0,
      lines.findIndex((l) => l.includes('port 40010 ')),
    );
    expect(detect(documents(firstNine.map((l) => received(l, 'auto'))))).toEqual([
      'fb_ssh_password_spraying',
    ]);
  });

  it('RDP brute force then success from Windows Security events', () => {
    const raw = (e: Record<string, unknown>) => ({ Event: e['Event'] });
    const failures = range(10).map((i) =>
      received(raw(winLogon(i * 10, 'failure', '198.51.100.7', 'Administrator', 10)), 'windows'),
    );
    const success = received(raw(winLogon(200, 'success', '198.51.100.7', 'Administrator', 10)), 'windows');
    const docs = documents([...failures, success]);
    expect(docs[0]).toMatchObject({ product: 'windows', 'source.ip': '198.51.100.7' });
    expect(detect(docs)).toEqual(['fb_win_remote_logon_brute_force', 'fb_win_success_after_brute_force']);
  });
});
