import { describe, expect, it } from 'vitest';
import { parseTimestamp, prepareEvent } from '../../src/detection/event.js';

const evtx = {
  Event: {
    System: {
      Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing', Guid: '{5484}' } },
      EventID: { '#text': 4624, '#attributes': { Qualifiers: 0 } },
      Channel: 'Security',
      Computer: 'dc1',
      Security: { '#attributes': { UserID: 'S-1-5-18' } },
      TimeCreated: { '#attributes': { SystemTime: '2024-02-03T04:05:06.789123Z' } },
    },
    EventData: { TargetUserName: 'alice', LogonType: 3, 'Threat Name': 'EICAR', Channel: 'not-this' },
  },
};

describe('prepareEvent', () => {
  it('reads EVTX-JSON System and EventData fields under Sigma names', () => {
    const e = prepareEvent(evtx);
    expect(e.shape).toBe('evtx');
    expect(e.product).toBe('windows');
    expect(e.channel).toBe('security');
    expect(e.eventId).toBe('4624');
    expect(e.get('EventID')).toBe(4624);
    expect(e.get('Channel')).toBe('Security'); // System wins over an EventData field of the same name
    expect(e.get('Provider_Name')).toBe('Microsoft-Windows-Security-Auditing');
    expect(e.get('SecurityUserID')).toBe('S-1-5-18');
    expect(e.get('TargetUserName')).toBe('alice');
    expect(e.get('ThreatName')).toBe('EICAR');
    expect(e.get('Threat Name')).toBe('EICAR');
    expect(e.get('Missing')).toBeUndefined();
    expect(e.lower('TargetUserName')).toBe('alice');
    expect(e.timestamp()).toBe(Date.parse('2024-02-03T04:05:06.789Z'));
    expect(e.keywords()).toContain('alice');
  });

  it('reads UserData and unnamed Data lists', () => {
    const e = prepareEvent({
      Event: {
        System: { EventID: 1102, Channel: 'Security' },
        UserData: { LogFileCleared: { SubjectUserName: 'bob', '#attributes': { xmlns: 'x' } } },
      },
    });
    expect(e.get('SubjectUserName')).toBe('bob');
    const d = prepareEvent({
      Event: { System: { EventID: 7, Channel: 'System' }, EventData: { Data: { '#text': ['a', 'b'] } } },
    });
    expect(d.get('Data')).toEqual(['a', 'b']);
  });

  it('reads Winlogbeat events', () => {
    const e = prepareEvent({
      '@timestamp': '2024-02-03T04:05:06Z',
      winlog: {
        channel: 'Microsoft-Windows-Sysmon/Operational',
        event_id: '1',
        computer_name: 'pc',
        event_data: { Image: 'C:\\x.exe' },
      },
      process: { executable: 'C:\\x.exe' },
    });
    expect(e.shape).toBe('winlogbeat');
    expect(e.channel).toBe('microsoft-windows-sysmon/operational');
    expect(e.eventId).toBe('1');
    expect(e.get('Image')).toBe('C:\\x.exe');
    expect(e.get('Computer')).toBe('pc');
    expect(e.get('process.executable')).toBe('C:\\x.exe');
    expect(e.timestamp()).toBe(Date.parse('2024-02-03T04:05:06Z'));
  });

  it('reads plain JSON by key and dotted path', () => {
    const e = prepareEvent({ user: { name: 'Carol' }, 'source.ip': '10.0.0.1', ts: 1700000000 });
    expect(e.shape).toBe('json');
    expect(e.product).toBeUndefined();
    expect(e.get('user.name')).toBe('Carol');
    expect(e.get('source.ip')).toBe('10.0.0.1');
    expect(e.timestamp()).toBe(1_700_000_000_000);
  });

  it('parses the timestamp forms of logs', () => {
    expect(parseTimestamp('2024-01-02 03:04:05.123456')).toBe(Date.parse('2024-01-02T03:04:05.123Z'));
    expect(parseTimestamp('2024-01-02T03:04:05+02:00')).toBe(Date.parse('2024-01-02T01:04:05Z'));
    expect(parseTimestamp(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(parseTimestamp('nonsense')).toBeUndefined();
  });

  it('reads the EVTX time form (fast path) as Date.parse does', () => {
    expect(parseTimestamp('2025-01-01T00:00:00Z')).toBe(Date.UTC(2025, 0, 1));
    expect(parseTimestamp('2025-01-01T00:00:00.1Z')).toBe(Date.UTC(2025, 0, 1, 0, 0, 0, 100));
    expect(parseTimestamp('2024-02-29T23:59:59.9876543Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 987));
    // out-of-range fields take the general path
    for (const text of ['2023-02-29T00:00:00Z', '2025-04-31T00:00:00Z', '2025-01-01T24:00:00Z'])
      expect(parseTimestamp(text)).toBe(Number.isNaN(Date.parse(text)) ? undefined : Date.parse(text));
    expect(parseTimestamp('2025-01-01T00:00:00.Z')).toBeUndefined();
  });
});
