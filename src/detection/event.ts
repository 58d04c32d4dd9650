/**
 * The event model the detection engine reads. Raw events stay as they were parsed (plain JSON);
 * `prepareEvent` recognises the shape once (EVTX-JSON, Winlogbeat, anything else) and builds a flat
 * view of the Windows fields so that thousands of rules read them with one property lookup each.
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

function copyData(target: JsonObject, data: unknown): void {
  if (!isObject(data)) return;
  for (const key of Object.keys(data)) {
    if (key === '#attributes') continue;
    const value = data[key];
    if (key === 'Data' && (Array.isArray(value) || (isObject(value) && '#text' in value))) {
      // Unnamed <Data> elements: keep them as a list under "Data".
      target['Data'] = unwrap(value);
      continue;
    }
    const plain = unwrap(value);
    target[key] = plain;
    // Some providers (Defender: "Threat Name", "Process Name") name fields with spaces; Sigma rules
    // write them without, so the flat view answers to both.
    if (key.includes(' ')) {
      const joined = key.replace(/ /g, '');
      if (!(joined in target)) target[joined] = plain;
    }
  }
}

function buildEvtxView(system: JsonObject, event: JsonObject): JsonObject {
  const flat: JsonObject = Object.create(null) as JsonObject;
  copyData(flat, event['EventData']);
  const userData = event['UserData'];
  if (isObject(userData)) {
    for (const inner of Object.values(userData)) copyData(flat, inner);
  }
  const provider = system['Provider'];
  if (isObject(provider) && isObject(provider['#attributes'])) {
    const attributes = provider['#attributes'];
    if (attributes['Name'] !== undefined) flat['Provider_Name'] = attributes['Name'];
    if (attributes['Guid'] !== undefined) flat['Provider_Guid'] = attributes['Guid'];
  }
  for (const key of [
    'EventID',
    'Channel',
    'Computer',
    'Level',
    'Task',
    'Opcode',
    'Keywords',
    'EventRecordID',
    'Version',
  ]) {
    const value = system[key];
    if (value !== undefined) flat[key] = unwrap(value);
  }
  const security = system['Security'];
  if (
    isObject(security) &&
    isObject(security['#attributes']) &&
    security['#attributes']['UserID'] !== undefined
  ) {
    flat['SecurityUserID'] = security['#attributes']['UserID'];
  }
  return flat;
}

function buildWinlogbeatView(winlog: JsonObject): JsonObject {
  const flat: JsonObject = Object.create(null) as JsonObject;
  copyData(flat, winlog['event_data']);
  copyData(flat, winlog['user_data']);
  const pairs: Array<[string, string]> = [
    ['event_id', 'EventID'],
    ['channel', 'Channel'],
    ['computer_name', 'Computer'],
    ['provider_name', 'Provider_Name'],
    ['provider_guid', 'Provider_Guid'],
    ['record_id', 'EventRecordID'],
    ['task', 'Task'],
    ['opcode', 'Opcode'],
    ['keywords', 'Keywords'],
    ['version', 'Version'],
  ];
  for (const [from, to] of pairs) {
    const value = winlog[from];
    if (value !== undefined) flat[to] = value;
  }
  return flat;
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

/** Parses timestamps: ISO 8601, "YYYY-MM-DD HH:MM:SS[.fff]" (taken as UTC), epoch seconds or milliseconds. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value !== 'string' || value.length < 4) return undefined;
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
  private readonly flat: JsonObject | undefined;
  private lowerCache: Map<string, string | null> | undefined;
  private keywordCache: string[] | undefined;
  private keywordTextCache: string | undefined;

  constructor(readonly raw: unknown) {
    let flat: JsonObject | undefined;
    let shape: EventShape = 'json';
    if (isObject(raw)) {
      const event = raw['Event'];
      if (isObject(event) && isObject(event['System'])) {
        shape = 'evtx';
        flat = buildEvtxView(event['System'], event);
      } else if (isObject(raw['winlog'])) {
        shape = 'winlogbeat';
        flat = buildWinlogbeatView(raw['winlog']);
      }
    }
    this.shape = shape;
    this.flat = flat;
    if (flat !== undefined) {
      this.product = 'windows';
      const channel = flat['Channel'];
      this.channel = typeof channel === 'string' ? channel.toLowerCase() : undefined;
      const id = flat['EventID'];
      this.eventId = id === undefined || id === null ? undefined : String(id);
    } else {
      this.product = undefined;
      this.channel = undefined;
      this.eventId = undefined;
    }
  }

  /**
   * The value of a field: the flat Windows view first, then the raw event by exact key, then by dotted
   * path. Returns undefined when the field is absent (null when present and null).
   */
  get(field: string): unknown {
    const flat = this.flat;
    if (flat !== undefined) {
      const value = flat[field];
      if (value !== undefined) return value;
    }
    const raw = this.raw;
    if (!isObject(raw)) return undefined;
    const direct = raw[field];
    if (direct !== undefined) return direct;
    if (field.indexOf('.') < 0) return undefined;
    let current: unknown = raw;
    for (const part of field.split('.')) {
      if (!isObject(current)) return undefined;
      current = current[part];
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
    const source = this.flat ?? this.raw;
    collectLeaves(source, out, 0);
    this.keywordCache = out;
    return out;
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

function collectLeaves(value: unknown, out: string[], depth: number): void {
  if (depth > 16) return;
  const text = scalarText(value);
  if (text !== null) {
    out.push(text);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectLeaves(item, out, depth + 1);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) collectLeaves(value[key], out, depth + 1);
  }
}

/** Builds the engine's view of one parsed JSON event. Pure. */
export function prepareEvent(raw: unknown): PreparedEvent {
  return new PreparedEvent(raw);
}
