import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseWindows } from '../../../src/ingest/normalise/index.js';
import {
  HAVE_REGRESSION_DATA,
  REGRESSION_DIR,
  SKIP_REASON,
  readReferenceJson,
} from '../evtx/regression-data.js';
import { FUZZ_RUNS, buildReceived, expectParsed, expectShape } from './support.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function evtx(
  channel: string,
  id: number,
  data: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    Event: {
      '#attributes': { xmlns: 'http://schemas.microsoft.com/win/2004/08/events/event' },
      System: {
        Provider: {
          '#attributes': {
            Name: 'Microsoft-Windows-Security-Auditing',
            Guid: '{54849625-5478-4994-A5BA-3E3B0328C30D}',
          },
        },
        EventID: id,
        Version: 2,
        Level: 0,
        Task: 12544,
        Opcode: 0,
        Keywords: '0x8020000000000000',
        TimeCreated: { '#attributes': { SystemTime: '2024-11-19T07:01:02.123456Z' } },
        EventRecordID: 98765,
        Correlation: null,
        Execution: { '#attributes': { ProcessID: 636, ThreadID: 700 } },
        Channel: channel,
        Computer: 'dc01.corp.example',
        Security: null,
      },
      EventData: data,
      ...extra,
    },
  };
}

const LOGON = {
  SubjectUserSid: 'S-1-5-18',
  SubjectUserName: 'DC01$',
  SubjectDomainName: 'CORP',
  TargetUserSid: 'S-1-5-21-1-2-3-1104',
  TargetUserName: 'alice',
  TargetDomainName: 'CORP',
  TargetLogonId: '0x3e7a1b',
  LogonType: 10,
  WorkstationName: 'WS17',
  ProcessId: '0x44c',
  ProcessName: 'C:\\Windows\\System32\\svchost.exe',
  IpAddress: '203.0.113.7',
  IpPort: '50123',
};

describe('Windows EVTX-JSON', () => {
  it('4624: the logon contract and the System values', () => {
    const r = parseWindows(evtx('Security', 4624, LOGON));
    expect(r?.parser).toBe('windows');
    expect(r?.time).toBe(Date.parse('2024-11-19T07:01:02.123Z'));
    expect(r?.fields).toMatchObject({
      'event.code': '4624',
      'winlog.event_id': '4624',
      'winlog.channel': 'Security',
      'winlog.record_id': '98765',
      'winlog.provider_name': 'Microsoft-Windows-Security-Auditing',
      'host.name': 'dc01.corp.example',
      'event.dataset': 'windows.security',
      'event.action': 'logged-in',
      'event.outcome': 'success',
      'event.category': ['authentication'],
      'user.name': 'alice',
      'user.domain': 'CORP',
      'source.ip': '203.0.113.7',
      'source.port': 50123,
      'winlog.logon.type': 'RemoteInteractive',
      'winlog.event_data.TargetUserName': 'alice',
      'winlog.event_data.LogonType': 10,
      'process.pid': 1100,
      'winlog.process.pid': 636,
    });
  });

  it('4625: failure, and `-` addresses are left out', () => {
    const r = parseWindows(
      evtx('Security', 4625, { ...LOGON, LogonType: 3, IpAddress: '-', IpPort: '-', Status: '0xc000006d' }),
    );
    expect(r?.fields).toMatchObject({
      'event.action': 'logon-failed',
      'event.outcome': 'failure',
      'winlog.logon.type': 'Network',
      'winlog.logon.failure.status': '0xc000006d',
    });
    expect(r?.fields['source.ip']).toBeUndefined();
    // Event data keeps placeholders as written (rules may test for them).
    expect(r?.fields['winlog.event_data.IpAddress']).toBe('-');
  });

  it('4688 process creation, 4720 account, 4732 group membership', () => {
    expect(
      parseWindows(
        evtx('Security', 4688, {
          SubjectUserName: 'alice',
          SubjectDomainName: 'CORP',
          NewProcessId: '0x1a4',
          NewProcessName: 'C:\\Windows\\System32\\cmd.exe',
          CommandLine: 'cmd.exe /c whoami',
          ProcessId: '0x10',
          ParentProcessName: 'C:\\Windows\\explorer.exe',
        }),
      )?.fields,
    ).toMatchObject({
      'event.action': 'created-process',
      'process.executable': 'C:\\Windows\\System32\\cmd.exe',
      'process.name': 'cmd.exe',
      'process.pid': 420,
      'process.command_line': 'cmd.exe /c whoami',
      'process.parent.executable': 'C:\\Windows\\explorer.exe',
      'process.parent.pid': 16,
      'user.name': 'alice',
    });
    expect(
      parseWindows(
        evtx('Security', 4720, {
          SubjectUserName: 'admin',
          TargetUserName: 'backdoor',
          TargetDomainName: 'CORP',
        }),
      )?.fields,
    ).toMatchObject({
      'event.action': 'added-user-account',
      'user.name': 'admin',
      'user.target.name': 'backdoor',
    });
    expect(
      parseWindows(
        evtx('Security', 4732, {
          SubjectUserName: 'admin',
          MemberName: 'CN=bob,OU=Users,DC=corp',
          TargetUserName: 'Administrators',
        }),
      )?.fields,
    ).toMatchObject({
      'event.action': 'added-member-to-group',
      'group.name': 'Administrators',
      'user.target.name': 'bob',
    });
  });

  it('1102 from UserData and System 104 are audit-log-cleared', () => {
    const cleared = evtx(
      'Security',
      1102,
      {},
      {
        UserData: {
          LogFileCleared: {
            '#attributes': { xmlns: 'x' },
            SubjectUserName: 'eve',
            SubjectDomainName: 'CORP',
          },
        },
      },
    );
    delete (cleared['Event'] as Record<string, unknown>)['EventData'];
    expect(parseWindows(cleared)?.fields).toMatchObject({
      'event.action': 'audit-log-cleared',
      'user.name': 'eve',
      'winlog.user_data.SubjectUserName': 'eve',
    });
    expect(
      parseWindows(evtx('System', 104, { SubjectUserName: 'eve', Channel: 'Security' }))?.fields,
    ).toMatchObject({
      'event.action': 'audit-log-cleared',
      'event.dataset': 'windows.system',
    });
  });

  it('EventID with Qualifiers and Data items with Name attributes', () => {
    const doc = evtx('Application', 0, {});
    const sys = (doc['Event'] as Record<string, Record<string, unknown>>)['System'] as Record<
      string,
      unknown
    >;
    sys['EventID'] = { '#text': 1000, '#attributes': { Qualifiers: 0 } };
    (doc['Event'] as Record<string, unknown>)['EventData'] = {
      Data: [
        { '#attributes': { Name: 'AppName' }, '#text': 'evil.exe' },
        { '@Name': 'Other', '#text': 'x' },
      ],
    };
    expect(parseWindows(doc)?.fields).toMatchObject({
      'event.code': '1000',
      'winlog.event_data.AppName': 'evil.exe',
      'winlog.event_data.Other': 'x',
      'event.dataset': 'windows.application',
    });
  });
});

describe('Sysmon', () => {
  const sysmon = (id: number, data: Record<string, unknown>) =>
    parseWindows(evtx('Microsoft-Windows-Sysmon/Operational', id, data))?.fields;

  it('1 process creation with hashes and DOMAIN\\user', () => {
    expect(
      sysmon(1, {
        Image: 'C:\\Windows\\System32\\rundll32.exe',
        CommandLine: 'rundll32.exe evil.dll,Start',
        ProcessId: 4460,
        ParentImage: 'C:\\Windows\\explorer.exe',
        ParentCommandLine: 'explorer.exe',
        User: 'CORP\\alice',
        Hashes:
          'SHA1=5E4F2C531C549BB72A658ED9DD16D491EDDBB286,MD5=FAB4B30C1C4F0A9202A7B42DCF1729DC,SHA256=1B48A4F8D20026E6C56E3AB4CC4788FA6425C8A75F8D91C2869FA533DE6B209E,IMPHASH=C324AAAC01F0F75C811E1F80C41B860C',
      }),
    ).toMatchObject({
      'event.dataset': 'windows.sysmon',
      'process.executable': 'C:\\Windows\\System32\\rundll32.exe',
      'process.command_line': 'rundll32.exe evil.dll,Start',
      'process.pid': 4460,
      'process.parent.executable': 'C:\\Windows\\explorer.exe',
      'process.parent.command_line': 'explorer.exe',
      'user.name': 'alice',
      'user.domain': 'CORP',
      'file.hash.sha256': '1b48a4f8d20026e6c56e3ab4cc4788fa6425c8a75f8d91c2869fa533de6b209e',
      'file.hash.md5': 'fab4b30c1c4f0a9202a7b42dcf1729dc',
      'file.hash.sha1': '5e4f2c531c549bb72a658ed9dd16d491eddbb286',
    });
  });

  it('3 network, 11 file, 22 DNS, 13 registry', () => {
    expect(
      sysmon(3, {
        SourceIp: '10.0.0.5',
        SourcePort: 50000,
        DestinationIp: '198.51.100.9',
        DestinationPort: 443,
        Protocol: 'tcp',
        Initiated: 'true',
      }),
    ).toMatchObject({
      'source.ip': '10.0.0.5',
      'source.port': 50000,
      'destination.ip': '198.51.100.9',
      'destination.port': 443,
      'network.transport': 'tcp',
      'network.direction': 'egress',
    });
    expect(sysmon(11, { TargetFilename: 'C:\\Users\\a\\AppData\\x.ps1' })).toMatchObject({
      'file.path': 'C:\\Users\\a\\AppData\\x.ps1',
      'file.name': 'x.ps1',
    });
    expect(sysmon(22, { QueryName: 'evil.example' })).toMatchObject({ 'dns.question.name': 'evil.example' });
    expect(
      sysmon(13, {
        TargetObject: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\evil',
        Details: 'C:\\evil.exe',
      }),
    ).toMatchObject({
      'registry.path': 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\evil',
      'registry.hive': 'HKLM',
      'registry.value': 'evil',
      'registry.data.strings': ['C:\\evil.exe'],
    });
  });
});

describe('Winlogbeat', () => {
  it('reads winlog.* and keeps the document flattened', () => {
    const e = normalise(
      buildReceived(
        {
          '@timestamp': '2024-11-19T07:01:02.000Z',
          event: { code: '4625', provider: 'Microsoft-Windows-Security-Auditing' },
          host: { name: 'ws17' },
          winlog: {
            channel: 'Security',
            event_id: '4625',
            record_id: 55,
            computer_name: 'ws17.corp.example',
            event_data: { TargetUserName: 'bob', IpAddress: '203.0.113.9', LogonType: '3' },
          },
        },
        'windows',
      ),
    );
    expectShape(e);
    expect(e.parser).toBe('windows');
    expect(e.timestamp).toBe('2024-11-19T07:01:02.000Z');
    expect(e.fields).toMatchObject({
      'event.action': 'logon-failed',
      'user.name': 'bob',
      'source.ip': '203.0.113.9',
      'winlog.logon.type': 'Network',
      'host.name': 'ws17.corp.example',
      'winlog.record_id': '55',
      'event.provider': 'Microsoft-Windows-Security-Auditing',
    });
  });
});

const REGRESSION_TITLE = HAVE_REGRESSION_DATA
  ? 'Sigma regression events'
  : `Sigma regression events (skipped: ${SKIP_REASON})`;

describe.skipIf(!HAVE_REGRESSION_DATA)(REGRESSION_TITLE, () => {
  it('every JSON event normalises as windows with its host and event code', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name.endsWith('.json')) files.push(p);
      }
    };
    walk(REGRESSION_DIR);
    let count = 0;
    for (const file of files) {
      for (const doc of readReferenceJson(file)) {
        const e = normalise(buildReceived(doc as Record<string, unknown>));
        expectShape(e);
        expect(e.parser).toBe('windows');
        expect(typeof e.fields['event.code']).toBe('string');
        expect(typeof e.fields['host.name']).toBe('string');
        if (
          e.fields['winlog.channel'] === 'Microsoft-Windows-Sysmon/Operational' &&
          e.fields['event.code'] === '1'
        ) {
          expect(typeof e.fields['process.executable']).toBe('string');
        }
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });
});

describe('Windows fuzz', () => {
  it('never throws on arbitrary JSON under Event/System/EventData and winlog', () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const shapes = fc.oneof(
      fc.record({
        Event: fc.record({
          System: fc.oneof(
            anyJson,
            fc.dictionary(
              fc.constantFrom(
                'EventID',
                'Channel',
                'Provider',
                'TimeCreated',
                'Computer',
                'EventRecordID',
                'Execution',
              ),
              anyJson,
            ),
          ),
          EventData: anyJson,
          UserData: anyJson,
        }),
      }),
      fc.record({
        winlog: fc.dictionary(
          fc.constantFrom('channel', 'event_id', 'event_data', 'user_data', 'record_id'),
          anyJson,
        ),
        '@timestamp': anyJson,
      }),
    );
    fc.assert(
      fc.property(shapes, (doc) => {
        expectParsed(parseWindows(doc as Record<string, unknown>));
        expectShape(normalise(buildReceived(doc as Record<string, unknown>, 'windows')));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
