/**
 * Windows events given as JSON: EVTX-JSON as evtx dump tools and Firebreak's EVTX reader print it
 * (`{"Event": {"System": {...}, "EventData": {...}}}`, values with attributes as `{"#text", "#attributes"}`)
 * and Winlogbeat documents (`winlog.*`, `event.code`). Both become `winlog.*` fields plus ECS for the
 * common Security, System and Sysmon events.
 */
import { parseIsoTime } from './time.js';
import {
  baseName,
  isObject,
  parseIntLoose,
  put,
  putAddress,
  putHashes,
  putVerbatim,
  scalar,
  type FieldScalar,
  type Fields,
  type Parsed,
} from './fields.js';
import { flattenInto, get, getStr, newBudget, tagIfTruncated } from './flatten.js';

const SYSMON_CHANNEL = 'microsoft-windows-sysmon/operational';

/** Logon type names by number, as Windows documents them. */
const LOGON_TYPES: Readonly<Record<number, string>> = {
  0: 'System',
  2: 'Interactive',
  3: 'Network',
  4: 'Batch',
  5: 'Service',
  7: 'Unlock',
  8: 'NetworkCleartext',
  9: 'NewCredentials',
  10: 'RemoteInteractive',
  11: 'CachedInteractive',
  12: 'CachedRemoteInteractive',
  13: 'CachedUnlock',
};

const LEVELS: Readonly<Record<number, string>> = {
  0: 'information',
  1: 'critical',
  2: 'error',
  3: 'warning',
  4: 'information',
  5: 'verbose',
};

/** One Windows event read from either shape. */
interface WinEvent {
  channel: string | undefined;
  eventId: number | undefined;
  recordId: string | undefined;
  provider: string | undefined;
  computer: string | undefined;
  time: number | undefined;
  data: Map<string, FieldScalar>;
}

/** EVTX dumps wrap values with attributes as `{ "#text": v, "#attributes": {...} }`. */
function unwrap(value: unknown): unknown {
  return isObject(value) && '#text' in value ? value['#text'] : value;
}

function attr(value: unknown, name: string): unknown {
  if (!isObject(value)) return undefined;
  const attrs = value['#attributes'];
  if (isObject(attrs) && name in attrs) return attrs[name];
  // xmltodict-style dumps write attributes as `@Name`.
  if (`@${name}` in value) return value[`@${name}`];
  return value[name];
}

/** Event data as name → scalar; nested values (rare) are flattened with dotted names. */
function readData(container: unknown, out: Map<string, FieldScalar>, fields: Fields, prefix: string): void {
  if (!isObject(container)) return;
  let unnamed = 0;
  for (const key of Object.keys(container)) {
    if (key === '#attributes' || key === 'xmlns') continue;
    const raw = container[key];
    if (key === 'Data' && (Array.isArray(raw) || isObject(raw))) {
      // `<Data Name="X">` items not flattened by the dump tool, or unnamed `<Data>` values.
      const items = Array.isArray(raw) ? raw : [raw];
      for (const item of items.slice(0, 1000)) {
        const name = attr(item, 'Name');
        const value = unwrap(item);
        if (typeof name === 'string' && name.length > 0) {
          const s = scalar(value);
          if (s !== undefined) out.set(name, s);
        } else {
          const values = Array.isArray(value) ? value : [value];
          for (const v of values.slice(0, 1000)) {
            const s = scalar(unwrap(v));
            if (s !== undefined) out.set(`param${++unnamed}`, s);
          }
        }
      }
      continue;
    }
    const value = unwrap(raw);
    const s = scalar(value);
    if (s !== undefined) out.set(key, s);
    else if (typeof value === 'object' && value !== null) {
      const budget = newBudget();
      flattenInto(fields, value, `${prefix}.${key}`, budget, 2);
      tagIfTruncated(fields, budget);
    }
  }
}

function readEvtx(event: Record<string, unknown>, fields: Fields): WinEvent {
  const system = event['System'];
  const data = new Map<string, FieldScalar>();
  readData(event['EventData'], data, fields, 'winlog.event_data');
  const userData = event['UserData'];
  const userMap = new Map<string, FieldScalar>();
  if (isObject(userData)) {
    for (const key of Object.keys(userData)) {
      if (key === '#attributes') continue;
      put(fields, 'winlog.user_data.xml_name', key);
      readData(userData[key], userMap, fields, 'winlog.user_data');
    }
  }
  for (const [k, v] of userMap) {
    putVerbatim(fields, `winlog.user_data.${k}`, v);
    if (!data.has(k)) data.set(k, v);
  }
  const sys = (name: string): unknown => (isObject(system) ? unwrap(system[name]) : undefined);
  const provider = attr(isObject(system) ? system['Provider'] : undefined, 'Name');
  const created = attr(isObject(system) ? system['TimeCreated'] : undefined, 'SystemTime');
  const execution = isObject(system) ? system['Execution'] : undefined;
  const security = isObject(system) ? system['Security'] : undefined;
  put(fields, 'winlog.process.pid', parseIntLoose(attr(execution, 'ProcessID')));
  put(fields, 'winlog.process.thread.id', parseIntLoose(attr(execution, 'ThreadID')));
  const userId = attr(security, 'UserID');
  if (typeof userId === 'string') put(fields, 'winlog.user.identifier', userId);
  const level = parseIntLoose(sys('Level'));
  if (level !== undefined) {
    put(fields, 'winlog.level', level);
    put(fields, 'log.level', LEVELS[level]);
  }
  put(fields, 'winlog.task', scalar(sys('Task')));
  put(fields, 'winlog.opcode', scalar(sys('Opcode')));
  put(fields, 'winlog.keywords', scalar(sys('Keywords')));
  put(fields, 'winlog.version', scalar(sys('Version')));
  const activity = attr(isObject(system) ? system['Correlation'] : undefined, 'ActivityID');
  if (typeof activity === 'string') put(fields, 'winlog.activity_id', activity);
  return {
    channel: typeof sys('Channel') === 'string' ? (sys('Channel') as string) : undefined,
    eventId: parseIntLoose(sys('EventID')),
    recordId: scalarText(sys('EventRecordID')),
    provider: typeof provider === 'string' ? provider : undefined,
    computer: typeof sys('Computer') === 'string' ? (sys('Computer') as string) : undefined,
    time: typeof created === 'string' ? parseIsoTime(created) : undefined,
    data,
  };
}

function scalarText(value: unknown): string | undefined {
  const s = scalar(value);
  return s === undefined ? undefined : String(s);
}

function readWinlogbeat(doc: Record<string, unknown>, fields: Fields): WinEvent {
  // Everything the document carries is kept, flattened; then the event data is read back.
  const budget = newBudget();
  flattenInto(fields, doc, '', budget);
  tagIfTruncated(fields, budget);
  const winlog = doc['winlog'];
  const data = new Map<string, FieldScalar>();
  const flat = (name: string): unknown => (winlog === undefined ? doc[`winlog.${name}`] : get(winlog, name));
  if (isObject(winlog)) {
    for (const source of [winlog['event_data'], winlog['user_data']]) {
      if (!isObject(source)) continue;
      for (const key of Object.keys(source)) {
        const s = scalar(source[key]);
        if (s !== undefined && !data.has(key)) data.set(key, s);
      }
    }
  } else {
    for (const key of Object.keys(fields)) {
      if (key.startsWith('winlog.event_data.')) {
        const s = scalar(fields[key]);
        if (s !== undefined) data.set(key.slice(18), s);
      }
    }
  }
  const ts = doc['@timestamp'];
  return {
    channel: typeof flat('channel') === 'string' ? (flat('channel') as string) : undefined,
    eventId:
      parseIntLoose(flat('event_id')) ?? parseIntLoose(getStr(doc, 'event', 'code') ?? doc['event.code']),
    recordId: scalarText(flat('record_id')),
    provider: typeof flat('provider_name') === 'string' ? (flat('provider_name') as string) : undefined,
    computer:
      (typeof flat('computer_name') === 'string' ? (flat('computer_name') as string) : undefined) ??
      getStr(doc, 'host', 'name'),
    time: typeof ts === 'string' ? parseIsoTime(ts) : undefined,
    data,
  };
}

/** Whether a JSON document is a Windows event in one of the two shapes. */
export function isWindowsEvent(doc: Record<string, unknown>): boolean {
  const event = doc['Event'];
  if (isObject(event) && isObject(event['System'])) return true;
  const winlog = doc['winlog'];
  if (isObject(winlog)) return 'event_id' in winlog || 'channel' in winlog || 'event_data' in winlog;
  return typeof doc['winlog.event_id'] !== 'undefined' || typeof doc['winlog.channel'] === 'string';
}

/** The `event.dataset` for a channel. */
export function windowsDataset(channel: string | undefined): string {
  if (channel === undefined || channel.length === 0) return 'windows.unknown';
  const c = channel.toLowerCase();
  if (c === 'security') return 'windows.security';
  if (c === 'system') return 'windows.system';
  if (c === 'application') return 'windows.application';
  if (c === SYSMON_CHANNEL) return 'windows.sysmon';
  if (c === 'windows powershell' || c === 'microsoft-windows-powershell/operational')
    return 'windows.powershell';
  let slug = '';
  for (let i = 0; i < c.length && slug.length < 64; i++) {
    const ch = c.charCodeAt(i);
    const ok = (ch >= 48 && ch <= 57) || (ch >= 97 && ch <= 122);
    if (ok) slug += c[i];
    else if (slug.length > 0 && !slug.endsWith('_')) slug += '_';
  }
  if (slug.endsWith('_')) slug = slug.slice(0, -1);
  return `windows.${slug.length > 0 ? slug : 'unknown'}`;
}

/** Reads event data as text ('-' and '' count as absent). */
function d(ev: WinEvent, name: string): string | undefined {
  const v = ev.data.get(name);
  if (v === undefined) return undefined;
  const s = String(v);
  return s === '' || s === '-' ? undefined : s;
}

function putUser(
  fields: Fields,
  prefix: string,
  name: string | undefined,
  domain: string | undefined,
  sid?: string,
): void {
  put(fields, `${prefix}.name`, name);
  put(fields, `${prefix}.domain`, domain);
  put(fields, `${prefix}.id`, sid);
}

/** `DOMAIN\user` → user.domain, user.name. */
function putQualifiedUser(fields: Fields, prefix: string, value: string | undefined): void {
  if (value === undefined) return;
  const slash = value.indexOf('\\');
  if (slash > 0) {
    put(fields, `${prefix}.domain`, value.slice(0, slash));
    put(fields, `${prefix}.name`, value.slice(slash + 1));
  } else put(fields, `${prefix}.name`, value);
}

function putExecutable(fields: Fields, prefix: string, path: string | undefined): void {
  if (path === undefined) return;
  put(fields, `${prefix}.executable`, path);
  put(fields, `${prefix}.name`, baseName(path));
}

function categorise(
  fields: Fields,
  action: string,
  category: string[],
  type: string[],
  outcome?: 'success' | 'failure',
): void {
  put(fields, 'event.action', action);
  put(fields, 'event.category', category);
  put(fields, 'event.type', type);
  put(fields, 'event.outcome', outcome);
}

function putSource(fields: Fields, ev: WinEvent): void {
  putAddress(fields, 'source', d(ev, 'IpAddress'));
  const port = parseIntLoose(d(ev, 'IpPort'));
  if (port !== undefined && port > 0) put(fields, 'source.port', port);
  put(fields, 'source.domain', d(ev, 'WorkstationName'));
}

function putLogon(fields: Fields, ev: WinEvent): void {
  putUser(fields, 'user', d(ev, 'TargetUserName'), d(ev, 'TargetDomainName'), d(ev, 'TargetUserSid'));
  putSource(fields, ev);
  const type = parseIntLoose(d(ev, 'LogonType'));
  if (type !== undefined) put(fields, 'winlog.logon.type', LOGON_TYPES[type] ?? String(type));
  put(fields, 'winlog.logon.id', d(ev, 'TargetLogonId'));
  const proc = d(ev, 'ProcessName');
  putExecutable(fields, 'process', proc);
  const pid = parseIntLoose(d(ev, 'ProcessId'));
  if (pid !== undefined && pid > 0) put(fields, 'process.pid', pid);
}

function security(fields: Fields, ev: WinEvent, id: number): void {
  const subject = (): void =>
    putUser(fields, 'user', d(ev, 'SubjectUserName'), d(ev, 'SubjectDomainName'), d(ev, 'SubjectUserSid'));
  const target = (): void =>
    putUser(fields, 'user.target', d(ev, 'TargetUserName'), d(ev, 'TargetDomainName'), d(ev, 'TargetSid'));
  switch (id) {
    case 4624:
      categorise(fields, 'logged-in', ['authentication'], ['start'], 'success');
      putLogon(fields, ev);
      return;
    case 4625:
      categorise(fields, 'logon-failed', ['authentication'], ['start'], 'failure');
      putLogon(fields, ev);
      put(fields, 'winlog.logon.failure.status', d(ev, 'Status'));
      put(fields, 'winlog.logon.failure.sub_status', d(ev, 'SubStatus'));
      put(fields, 'winlog.logon.failure.reason', d(ev, 'FailureReason'));
      return;
    case 4634:
    case 4647:
      categorise(fields, 'logged-out', ['authentication'], ['end'], 'success');
      putLogon(fields, ev);
      return;
    case 4648:
      categorise(fields, 'logged-in-explicit', ['authentication'], ['start'], 'success');
      subject();
      putUser(fields, 'user.effective', d(ev, 'TargetUserName'), d(ev, 'TargetDomainName'));
      put(fields, 'destination.domain', d(ev, 'TargetServerName'));
      putSource(fields, ev);
      putExecutable(fields, 'process', d(ev, 'ProcessName'));
      return;
    case 4672:
      categorise(fields, 'logged-in-special', ['iam'], ['admin'], 'success');
      subject();
      put(fields, 'winlog.logon.id', d(ev, 'SubjectLogonId'));
      return;
    case 4688: {
      categorise(fields, 'created-process', ['process'], ['start'], 'success');
      subject();
      putExecutable(fields, 'process', d(ev, 'NewProcessName'));
      put(fields, 'process.pid', parseIntLoose(d(ev, 'NewProcessId')));
      put(fields, 'process.command_line', d(ev, 'CommandLine'));
      putExecutable(fields, 'process.parent', d(ev, 'ParentProcessName'));
      put(fields, 'process.parent.pid', parseIntLoose(d(ev, 'ProcessId')));
      return;
    }
    case 4720:
      categorise(fields, 'added-user-account', ['iam'], ['user', 'creation'], 'success');
      subject();
      target();
      return;
    case 4722:
      categorise(fields, 'enabled-user-account', ['iam'], ['user', 'change'], 'success');
      subject();
      target();
      return;
    case 4725:
      categorise(fields, 'disabled-user-account', ['iam'], ['user', 'change'], 'success');
      subject();
      target();
      return;
    case 4726:
      categorise(fields, 'deleted-user-account', ['iam'], ['user', 'deletion'], 'success');
      subject();
      target();
      return;
    case 4740:
      categorise(fields, 'locked-out-user-account', ['iam'], ['user', 'change'], 'success');
      subject();
      putUser(fields, 'user.target', d(ev, 'TargetUserName'), undefined, d(ev, 'TargetSid'));
      return;
    case 4728:
    case 4732:
    case 4756: {
      categorise(fields, 'added-member-to-group', ['iam'], ['group', 'change'], 'success');
      subject();
      put(fields, 'group.name', d(ev, 'TargetUserName'));
      put(fields, 'group.domain', d(ev, 'TargetDomainName'));
      put(fields, 'group.id', d(ev, 'TargetSid'));
      const member = d(ev, 'MemberName');
      // MemberName is a distinguished name (`CN=bob,OU=...`); the CN is the account.
      if (member !== undefined && member.startsWith('CN=')) {
        const comma = member.indexOf(',');
        put(fields, 'user.target.name', member.slice(3, comma < 0 ? member.length : comma));
      } else put(fields, 'user.target.name', member);
      put(fields, 'user.target.id', d(ev, 'MemberSid'));
      return;
    }
    case 1102:
      categorise(fields, 'audit-log-cleared', ['iam'], ['change'], 'success');
      subject();
      return;
  }
}

function system(fields: Fields, ev: WinEvent, id: number): void {
  if (id === 104) {
    categorise(fields, 'audit-log-cleared', ['iam'], ['change'], 'success');
    putUser(fields, 'user', d(ev, 'SubjectUserName'), d(ev, 'SubjectDomainName'));
    put(fields, 'winlog.channel_cleared', d(ev, 'Channel'));
  } else if (id === 7045) {
    categorise(fields, 'service-installed', ['configuration'], ['creation'], 'success');
    put(fields, 'service.name', d(ev, 'ServiceName'));
    put(fields, 'file.path', d(ev, 'ImagePath'));
    put(fields, 'user.name', d(ev, 'AccountName'));
  }
}

function sysmon(fields: Fields, ev: WinEvent, id: number): void {
  putExecutable(fields, 'process', d(ev, 'Image'));
  put(fields, 'process.pid', parseIntLoose(d(ev, 'ProcessId')));
  put(fields, 'process.entity_id', d(ev, 'ProcessGuid'));
  putQualifiedUser(fields, 'user', d(ev, 'User'));
  put(fields, 'rule.name', d(ev, 'RuleName'));
  switch (id) {
    case 1: {
      categorise(fields, 'process-created', ['process'], ['start']);
      put(fields, 'process.command_line', d(ev, 'CommandLine'));
      put(fields, 'process.working_directory', d(ev, 'CurrentDirectory'));
      put(fields, 'process.pe.original_file_name', d(ev, 'OriginalFileName'));
      putExecutable(fields, 'process.parent', d(ev, 'ParentImage'));
      put(fields, 'process.parent.command_line', d(ev, 'ParentCommandLine'));
      put(fields, 'process.parent.pid', parseIntLoose(d(ev, 'ParentProcessId')));
      put(fields, 'process.parent.entity_id', d(ev, 'ParentProcessGuid'));
      const hashes = d(ev, 'Hashes');
      if (hashes !== undefined) {
        putHashes(fields, 'file.hash', hashes);
        putHashes(fields, 'process.hash', hashes);
      }
      return;
    }
    case 3: {
      categorise(fields, 'network-connection-detected', ['network'], ['connection', 'start']);
      putAddress(fields, 'source', d(ev, 'SourceIp'));
      put(fields, 'source.port', parseIntLoose(d(ev, 'SourcePort')));
      put(fields, 'source.domain', d(ev, 'SourceHostname'));
      putAddress(fields, 'destination', d(ev, 'DestinationIp'));
      put(fields, 'destination.port', parseIntLoose(d(ev, 'DestinationPort')));
      put(fields, 'destination.domain', d(ev, 'DestinationHostname'));
      put(fields, 'network.transport', d(ev, 'Protocol')?.toLowerCase());
      const initiated = d(ev, 'Initiated');
      if (initiated !== undefined)
        put(fields, 'network.direction', initiated === 'true' ? 'egress' : 'ingress');
      return;
    }
    case 7: {
      categorise(fields, 'image-loaded', ['library'], ['start']);
      const loaded = d(ev, 'ImageLoaded');
      put(fields, 'file.path', loaded);
      if (loaded !== undefined) put(fields, 'file.name', baseName(loaded));
      const hashes = d(ev, 'Hashes');
      if (hashes !== undefined) putHashes(fields, 'file.hash', hashes);
      return;
    }
    case 11: {
      categorise(fields, 'file-created', ['file'], ['creation']);
      const path = d(ev, 'TargetFilename');
      put(fields, 'file.path', path);
      if (path !== undefined) put(fields, 'file.name', baseName(path));
      return;
    }
    case 12:
    case 13:
    case 14: {
      categorise(fields, id === 13 ? 'registry-value-set' : 'registry-event', ['registry'], ['change']);
      const path = d(ev, 'TargetObject');
      if (path !== undefined) {
        put(fields, 'registry.path', path);
        const first = path.indexOf('\\');
        const hive = first < 0 ? path : path.slice(0, first);
        put(fields, 'registry.hive', hive);
        const last = path.lastIndexOf('\\');
        if (last > first && first >= 0) {
          put(fields, 'registry.key', path.slice(first + 1, last));
          put(fields, 'registry.value', path.slice(last + 1));
        }
      }
      const details = d(ev, 'Details');
      if (details !== undefined) put(fields, 'registry.data.strings', [details]);
      return;
    }
    case 22: {
      categorise(fields, 'dns-query', ['network'], ['protocol', 'info']);
      put(fields, 'dns.question.name', d(ev, 'QueryName'));
      put(fields, 'network.protocol', 'dns');
      put(fields, 'dns.response_code', d(ev, 'QueryStatus'));
      return;
    }
  }
}

/**
 * Pure; never throws. Parses a Windows event document (EVTX-JSON or Winlogbeat) into `winlog.*`,
 * `event.code`, `host.name` and the ECS fields of the common events. Returns undefined when the
 * document is neither shape.
 */
export function parseWindows(doc: Record<string, unknown>): Parsed | undefined {
  const fields: Fields = {};
  const event = doc['Event'];
  let ev: WinEvent;
  if (isObject(event) && isObject(event['System'])) ev = readEvtx(event, fields);
  else if (isWindowsEvent(doc)) ev = readWinlogbeat(doc, fields);
  else return undefined;

  put(fields, 'event.module', 'windows');
  put(fields, 'event.dataset', windowsDataset(ev.channel));
  put(fields, 'event.kind', 'event');
  put(fields, 'winlog.channel', ev.channel);
  put(fields, 'winlog.provider_name', ev.provider);
  put(fields, 'winlog.computer_name', ev.computer);
  put(fields, 'host.name', ev.computer);
  put(fields, 'winlog.record_id', ev.recordId);
  if (ev.eventId !== undefined) {
    put(fields, 'event.code', String(ev.eventId));
    put(fields, 'winlog.event_id', String(ev.eventId));
  }
  for (const [name, value] of ev.data) putVerbatim(fields, `winlog.event_data.${name}`, value);
  const id = ev.eventId;
  const channel = ev.channel?.toLowerCase();
  if (id !== undefined) {
    if (channel === 'security') security(fields, ev, id);
    else if (channel === 'system') system(fields, ev, id);
    else if (channel === SYSMON_CHANNEL) sysmon(fields, ev, id);
  }
  return { parser: 'windows', fields, time: ev.time };
}
