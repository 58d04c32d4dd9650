/**
 * The event model the detection engine reads. Raw events stay as they were parsed (plain JSON);
 * `prepareEvent` recognises the shape once (EVTX-JSON, Winlogbeat, anything else); Windows fields are
 * then read in place under the names Sigma uses (EventData/UserData names, System fields).
 */

/** The shapes Firebreak recognises. `json` is any other JSON object (Linux, web, cloud, Firebreak's own). */
export type EventShape = 'evtx' | 'winlogbeat' | 'json';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** EVTX dumps wrap values with attributes as `{ "#text": v, "#attributes": {...} }`. */
function unwrap(value: unknown): unknown {
  if (isObject(value) && '#text' in value) return value['#text'];
  return value;
}

const NO_OBJECTS: readonly JsonObject[] = [];
const NO_FIELDS: ReadonlyMap<string, unknown> = new Map();

/** Where a Windows view finds the System fields: an EVTX `System` element or a Winlogbeat `winlog`. */
type SystemKind = 'evtx' | 'winlogbeat';

const EVTX_SYSTEM = [
  'EventID',
  'Channel',
  'Computer',
  'Level',
  'Task',
  'Opcode',
  'Keywords',
  'EventRecordID',
  'Version',
  'Provider_Name',
];

const WINLOGBEAT_SYSTEM: Readonly<Record<string, string>> = {
  EventID: 'event_id',
  Channel: 'channel',
  Computer: 'computer_name',
  Provider_Name: 'provider_name',
  Provider_Guid: 'provider_guid',
  EventRecordID: 'record_id',
  Task: 'task',
  Opcode: 'opcode',
  Keywords: 'keywords',
  Version: 'version',
};
const WINLOGBEAT_SYSTEM_NAMES = Object.keys(WINLOGBEAT_SYSTEM);

function evtxSystem(system: JsonObject, field: string): unknown {
  switch (field) {
    case 'EventID':
    case 'Channel':
    case 'Computer':
    case 'Level':
    case 'Task':
    case 'Opcode':
    case 'Keywords':
    case 'EventRecordID':
    case 'Version':
      return unwrap(system[field]);
    case 'Provider_Name':
    case 'Provider_Guid': {
      const provider = system['Provider'];
      if (!isObject(provider) || !isObject(provider['#attributes'])) return undefined;
      return provider['#attributes'][field === 'Provider_Name' ? 'Name' : 'Guid'];
    }
    case 'SecurityUserID': {
      const security = system['Security'];
      return isObject(security) && isObject(security['#attributes'])
        ? security['#attributes']['UserID']
        : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The Windows fields of an event, read in place (nothing is copied per event): EVTX-JSON
 * (`Event.System`, `Event.EventData`, `Event.UserData.<element>`) or Winlogbeat (`winlog.*`).
 */
class WindowsView {
  private readonly data: JsonObject | undefined;
  private readonly userData: readonly JsonObject[];
  /** Sigma names of fields stored with spaces ("Threat Name" -> "ThreatName"), built on first need. */
  private spaceless: ReadonlyMap<string, unknown> | undefined;

  constructor(
    private readonly kind: SystemKind,
    /** The EVTX `System` element, or the Winlogbeat `winlog` object. */
    private readonly systemSource: JsonObject,
    data: unknown,
    userData: unknown,
  ) {
    this.data = isObject(data) ? data : undefined;
    this.userData = !isObject(userData)
      ? NO_OBJECTS
      : kind === 'evtx'
        ? Object.values(userData).filter(isObject)
        : [userData];
  }

  system(field: string): unknown {
    if (this.kind === 'evtx') return evtxSystem(this.systemSource, field);
    const key = WINLOGBEAT_SYSTEM[field];
    return key === undefined ? undefined : this.systemSource[key];
  }

  get(field: string): unknown {
    if (field === '#attributes') return undefined;
    if (field === 'EventID' || field === 'Channel') {
      // The System values index the event; an EventData field of the same name does not override them.
      const s = this.system(field);
      if (s !== undefined) return s;
    }
    const data = this.data;
    if (data !== undefined) {
      const v = data[field];
      if (v !== undefined) return unwrap(v);
    }
    const userData = this.userData;
    for (let i = 0; i < userData.length; i++) {
      const v = userData[i]![field];
      if (v !== undefined) return unwrap(v);
    }
    const s = this.system(field);
    if (s !== undefined) return s;
    // Some providers (Defender: "Threat Name", "Process Name") name fields with spaces; Sigma rules
    // write them without, so the view answers to both.
    let spaceless = this.spaceless;
    if (spaceless === undefined) {
      let found: Map<string, unknown> | undefined;
      for (const source of data === undefined ? this.userData : [data, ...this.userData]) {
        for (const key in source)
          if (key.includes(' ')) (found ??= new Map()).set(key.replace(/ /g, ''), unwrap(source[key]));
      }
      spaceless = found ?? NO_FIELDS;
      this.spaceless = spaceless;
    }
    return spaceless.size === 0 ? undefined : spaceless.get(field);
  }

  /** Every scalar of the event data and the named System fields (see `PreparedEvent.keywordsExcept`). */
  leaves(out: string[], skip?: ReadonlySet<string>, numbers = true): void {
    if (this.data !== undefined) {
      if (skip === undefined) collectLeaves(this.data, out, 0, numbers);
      else collectLeavesExcept(this.data, skip, out, numbers);
    }
    for (const u of this.userData) collectLeaves(u, out, 0, numbers);
    for (const name of this.kind === 'evtx' ? EVTX_SYSTEM : WINLOGBEAT_SYSTEM_NAMES)
      collectLeaves(this.system(name), out, 0, numbers);
  }
}

const TIME_FIELDS = [
  '@timestamp',
  'timestamp',
  'time',
  'eventTime',
  'EventTime',
  'TimeCreated',
  'ts',
  'date',
];

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digits of `text` from `from` to `to` as a number, or -1 when one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The fast path of `parseTimestamp` for the form EVTX and most JSON logs write,
 * `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with ordinary field values; undefined for anything else (the general
 * path then decides). Gives what the general path gives: milliseconds from the first three fraction
 * digits.
 */
function parseIsoUtc(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':')
    return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return undefined;
  if (month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0)))
    return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let ms = 0;
  if (n > 20) {
    if (text[19] !== '.' || n === 21) return undefined;
    if (digits(text, 20, n - 1) < 0) return undefined;
    ms = digits(text, 20, Math.min(23, n - 1));
    for (let i = n - 1 - 20; i < 3; i++) ms *= 10; // ".1" is 100 ms
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** Parses timestamps: ISO 8601, "YYYY-MM-DD HH:MM:SS[.fff]" (taken as UTC), epoch seconds or milliseconds. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value !== 'string' || value.length < 4) return undefined;
  const utc = parseIsoUtc(value);
  if (utc !== undefined) return utc;
  if (/^\d+(\.\d+)?$/.test(value)) return parseTimestamp(Number(value));
  let text = value.trim();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(.*)$/.exec(text);
  if (m) {
    const zone = m[5] ?? '';
    let fraction = m[4] ?? '';
    // Date.parse accepts at most millisecond precision reliably.
    if (fraction.length > 4) fraction = fraction.slice(0, 4);
    const seconds = m[3] === undefined ? ':00' : m[3].slice(0, 3);
    text = `${m[1]}T${m[2]!.slice(0, 5)}${seconds}${fraction}${zone.trim() === '' ? 'Z' : zone.trim()}`;
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * A field name's dotted path, split once per name (rules ask for the same few hundred names event
 * after event; splitting on every lookup of an absent field allocated an array each time). Null for
 * names without a dot.
 */
const PATHS = new Map<string, readonly string[] | null>();
const MAX_PATHS = 65_536;
function dottedPath(field: string): readonly string[] | null {
  let path = PATHS.get(field);
  if (path === undefined) {
    path = field.indexOf('.') < 0 ? null : field.split('.');
    if (PATHS.size >= MAX_PATHS) PATHS.clear();
    PATHS.set(field, path);
  }
  return path;
}

/**
 * One event as the engine sees it. Pure and cheap to build; caches what many rules ask for
 * (lower-cased field values, the keyword list) for the life of one evaluation.
 */
export class PreparedEvent {
  readonly shape: EventShape;
  /** `windows` for EVTX and Winlogbeat events, or the value of a top-level `product` hint, else undefined. */
  readonly product: string | undefined;
  /** Lower-cased channel (Windows) used to dispatch rules. */
  readonly channel: string | undefined;
  /** Event id as a string, used to dispatch rules. */
  readonly eventId: string | undefined;
  private readonly view: WindowsView | undefined;
  private lowerCache: Map<string, string | null> | undefined;
  private keywordCache: string[] | undefined;
  private keywordTextCache: string | undefined;

  constructor(readonly raw: unknown) {
    let view: WindowsView | undefined;
    let shape: EventShape = 'json';
    if (isObject(raw)) {
      const event = raw['Event'];
      if (isObject(event) && isObject(event['System'])) {
        shape = 'evtx';
        view = new WindowsView('evtx', event['System'], event['EventData'], event['UserData']);
      } else if (isObject(raw['winlog'])) {
        shape = 'winlogbeat';
        const winlog = raw['winlog'];
        view = new WindowsView('winlogbeat', winlog, winlog['event_data'], winlog['user_data']);
      }
    }
    this.shape = shape;
    this.view = view;
    if (view !== undefined) {
      this.product = 'windows';
      const channel = view.get('Channel');
      this.channel = typeof channel === 'string' ? channel.toLowerCase() : undefined;
      const id = view.get('EventID');
      this.eventId = id === undefined || id === null ? undefined : String(id);
    } else {
      this.product = undefined;
      this.channel = undefined;
      this.eventId = undefined;
    }
  }

  /**
   * The value of a field: the Windows view first, then the raw event by exact key, then by dotted
   * path. Returns undefined when the field is absent (null when present and null).
   */
  get(field: string): unknown {
    const view = this.view;
    if (view !== undefined) {
      const value = view.get(field);
      if (value !== undefined) return value;
    }
    const raw = this.raw;
    if (!isObject(raw)) return undefined;
    const direct = raw[field];
    if (direct !== undefined) return direct;
    const path = dottedPath(field);
    if (path === null) return undefined;
    let current: unknown = raw;
    for (let i = 0; i < path.length; i++) {
      if (!isObject(current)) return undefined;
      current = current[path[i]!];
      if (current === undefined) return undefined;
    }
    return current;
  }

  /** The lower-cased string form of a scalar field (cached), or null when absent or not a scalar. */
  lower(field: string): string | null {
    let cache = this.lowerCache;
    if (cache === undefined) {
      cache = new Map();
      this.lowerCache = cache;
    } else {
      const hit = cache.get(field);
      if (hit !== undefined) return hit;
    }
    const value = this.get(field);
    const text = scalarText(value);
    const result = text === null ? null : text.toLowerCase();
    cache.set(field, result);
    return result;
  }

  /** Every scalar value in the event (strings and numbers as text), for keyword searches. */
  keywords(): readonly string[] {
    if (this.keywordCache !== undefined) return this.keywordCache;
    const out: string[] = [];
    if (this.view !== undefined) this.view.leaves(out);
    else collectLeaves(this.raw, out, 0);
    this.keywordCache = out;
    return out;
  }

  /**
   * Appends to `out` the values `keywords` lists, less the string values of the top-level event-data
   * fields (for Windows events; of the event, for others) named in `skip`: the values `get` returns for
   * those names, which the prefilter scans on their own. `skip` must not hold EventID or Channel
   * (whose `get` reads the System values first). With `numbers` false, numeric values are left out too
   * (for a scan whose literals cannot occur in the text of a number).
   */
  keywordsExcept(skip: ReadonlySet<string>, out: string[], numbers = true): void {
    if (this.view !== undefined) this.view.leaves(out, skip, numbers);
    else if (isObject(this.raw)) collectLeavesExcept(this.raw, skip, out, numbers);
    else collectLeaves(this.raw, out, 0, numbers);
  }

  /** Every scalar value, lower-cased and joined by newlines (for the keyword prefilter). */
  keywordText(): string {
    if (this.keywordTextCache === undefined) this.keywordTextCache = this.keywords().join('\n').toLowerCase();
    return this.keywordTextCache;
  }

  /** The event time in epoch milliseconds, if the event carries one. */
  timestamp(): number | undefined {
    const raw = this.raw;
    if (!isObject(raw)) return undefined;
    if (this.shape === 'evtx') {
      const system = (raw['Event'] as JsonObject)['System'] as JsonObject;
      const created = system['TimeCreated'];
      if (isObject(created) && isObject(created['#attributes'])) {
        return parseTimestamp(created['#attributes']['SystemTime']);
      }
      return parseTimestamp(created);
    }
    for (const key of TIME_FIELDS) {
      const value = raw[key];
      if (value !== undefined) {
        const parsed = parseTimestamp(value);
        if (parsed !== undefined) return parsed;
      }
    }
    const nested = this.get('event.created');
    return nested === undefined ? undefined : parseTimestamp(nested);
  }
}

/** The text form of a scalar (string, number, boolean); null for anything else. */
export function scalarText(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return null;
  }
}

function collectLeaves(value: unknown, out: string[], depth: number, numbers = true): void {
  if (depth > 16) return;
  // the text of a finite number or a bigint holds only digits, '.', 'e', '+' and '-'
  if (!numbers && ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint'))
    return;
  const text = scalarText(value);
  if (text !== null) {
    out.push(text);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectLeaves(item, out, depth + 1, numbers);
  } else if (isObject(value)) {
    // for-in over a parsed JSON object (own keys only, in Object.keys order) reads values through the
    // enum cache instead of a megamorphic keyed load per key
    for (const key in value) collectLeaves(value[key], out, depth + 1, numbers);
  }
}

/** `collectLeaves` of an object's members, less the string members named in `skip`. */
function collectLeavesExcept(
  object: JsonObject,
  skip: ReadonlySet<string>,
  out: string[],
  numbers = true,
): void {
  for (const key in object) {
    const value = object[key];
    if (typeof value === 'string' && skip.has(key)) continue;
    collectLeaves(value, out, 1, numbers);
  }
}

/** Builds the engine's view of one parsed JSON event. Pure. */
export function prepareEvent(raw: unknown): PreparedEvent {
  return new PreparedEvent(raw);
}
