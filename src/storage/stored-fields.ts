/**
 * How an event's normalised fields are stored: JSON whose well-known field names are replaced by short
 * codes. Names are more than half of the JSON of a typical syslog event (28 fields, about 420 of 750
 * bytes), and the stored JSON is written, copied between threads, logged by SQLite and read back for
 * every event; the codes cut it by more than a third (747 to 471 bytes). Pure.
 *
 * A code is `~` and the name's index in KNOWN_FIELDS in base 36. A field name of the event's own that
 * starts with `~` is stored with a second `~` in front, so every stored name reads back unambiguously.
 * Names not in the table are stored as they are.
 */

/**
 * Field names the normalisers write. APPEND ONLY: a name's position is its code in stored rows, so
 * removing or reordering names would change what existing rows mean.
 */
export const KNOWN_FIELDS: readonly string[] = [
  'message',
  'tags',
  'labels',
  '@timestamp',
  'access_log.ident',
  'auditd.log',
  'auditd.log.arch',
  'auditd.log.record_type',
  'auditd.log.sequence',
  'auditd.log.syscall',
  'cef.device.event_class_id',
  'cef.device.product',
  'cef.device.vendor',
  'cef.device.version',
  'cef.extensions.outcome',
  'cef.extensions.rt',
  'cef.name',
  'cef.severity',
  'cef.version',
  'client.ip',
  'destination.bytes',
  'destination.domain',
  'destination.ip',
  'destination.mac',
  'destination.packets',
  'destination.port',
  'destination.user.domain',
  'destination.user.email',
  'destination.user.id',
  'destination.user.name',
  'dns.id',
  'dns.question.name',
  'dns.question.type',
  'dns.response_code',
  'dns.type',
  'email.cc.address',
  'email.from.address',
  'email.sender.address',
  'email.to.address',
  'event.action',
  'event.category',
  'event.code',
  'event.created',
  'event.dataset',
  'event.end',
  'event.kind',
  'event.module',
  'event.outcome',
  'event.severity',
  'event.start',
  'event.type',
  'file.hash',
  'file.hash.md5',
  'file.hash.sha1',
  'file.hash.sha256',
  'file.name',
  'file.path',
  'file.size',
  'group.domain',
  'group.effective.name',
  'group.id',
  'group.name',
  'host.hostname',
  'host.ip',
  'host.name',
  'http.request.body.bytes',
  'http.request.method',
  'http.request.original',
  'http.request.referrer',
  'http.response.body.bytes',
  'http.response.mime_type',
  'http.response.status_code',
  'http.version',
  'id.orig_h',
  'log.file.path',
  'log.level',
  'log.source.address',
  'log.syslog.appname',
  'log.syslog.facility.code',
  'log.syslog.facility.name',
  'log.syslog.hostname',
  'log.syslog.msgid',
  'log.syslog.priority',
  'log.syslog.procid',
  'log.syslog.severity.code',
  'log.syslog.severity.name',
  'log.syslog.version',
  'network.community_id',
  'network.direction',
  'network.protocol',
  'network.transport',
  'observer.hostname',
  'observer.ingress.interface.name',
  'observer.ip',
  'observer.product',
  'observer.type',
  'observer.vendor',
  'observer.version',
  'openssh.disconnect.code',
  'openssh.disconnect.reason',
  'openssh.invalid_user',
  'openssh.key.fingerprint',
  'openssh.key.type',
  'openssh.method',
  'openssh.preauth',
  'process.args',
  'process.command_line',
  'process.entity_id',
  'process.executable',
  'process.hash',
  'process.hash.md5',
  'process.hash.sha1',
  'process.hash.sha256',
  'process.name',
  'process.parent',
  'process.parent.command_line',
  'process.parent.entity_id',
  'process.parent.executable',
  'process.parent.pid',
  'process.pe.original_file_name',
  'process.pid',
  'process.title',
  'process.working_directory',
  'registry.data.strings',
  'registry.hive',
  'registry.key',
  'registry.path',
  'registry.value',
  'related.hash',
  'related.hosts',
  'related.ip',
  'related.user',
  'rule.category',
  'rule.id',
  'rule.name',
  'server.ip',
  'service.name',
  'source.bytes',
  'source.domain',
  'source.ip',
  'source.mac',
  'source.packets',
  'source.port',
  'source.user.domain',
  'source.user.email',
  'source.user.id',
  'source.user.name',
  'sudo.env',
  'sudo.failure',
  'sudo.message',
  'sudo.tsid',
  'sudo.tty',
  'suricata.eve',
  'tls.cipher',
  'tls.client.ja3',
  'tls.client.server_name',
  'tls.established',
  'tls.server.hash.sha1',
  'tls.server.issuer',
  'tls.server.ja3s',
  'tls.server.not_after',
  'tls.server.not_before',
  'tls.server.subject',
  'tls.version',
  'tls.version_protocol',
  'url.domain',
  'url.full',
  'url.original',
  'url.path',
  'url.query',
  'url.scheme',
  'user.audit.id',
  'user.effective',
  'user.effective.id',
  'user.effective.name',
  'user.email',
  'user.id',
  'user.name',
  'user.target',
  'user.target.id',
  'user.target.name',
  'user_agent.original',
  'windows.application',
  'windows.powershell',
  'windows.security',
  'windows.sysmon',
  'windows.system',
  'windows.unknown',
  'winlog.activity_id',
  'winlog.channel',
  'winlog.channel_cleared',
  'winlog.computer_name',
  'winlog.event_data',
  'winlog.event_id',
  'winlog.keywords',
  'winlog.level',
  'winlog.logon.failure.reason',
  'winlog.logon.failure.status',
  'winlog.logon.failure.sub_status',
  'winlog.logon.id',
  'winlog.logon.type',
  'winlog.opcode',
  'winlog.process.pid',
  'winlog.process.thread.id',
  'winlog.provider_name',
  'winlog.record_id',
  'winlog.task',
  'winlog.user.identifier',
  'winlog.user_data',
  'winlog.user_data.xml_name',
  'winlog.version',
  'zeek.session_id',
];

const TILDE = 126;
const CODE_OF = new Map(KNOWN_FIELDS.map((name, i) => [name, `~${i.toString(36)}`]));
const NAME_OF = new Map(KNOWN_FIELDS.map((name, i) => [`~${i.toString(36)}`, name]));

/** Sets an own property, even one named `__proto__` (which plain assignment would not). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** The name a field has in stored JSON (for queries that look inside it). */
export function storedFieldName(name: string): string {
  const code = CODE_OF.get(name);
  if (code !== undefined) return code;
  return name.charCodeAt(0) === TILDE ? `~${name}` : name;
}

/** `"name":` as stored, per known name, computed once (the hot path writes tens of thousands a second). */
const KEY_PREFIX = new Map(KNOWN_FIELDS.map((name) => [name, `${JSON.stringify(storedFieldName(name))}:`]));

/**
 * A character JSON.stringify would escape: quote, backslash, control characters; surrogates too (it
 * escapes a lone one; a string with any is simply left to it). One character class: linear time.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The stored JSON of normalised fields (as JSON.stringify would write them, with stored names).
 *
 * Built from parts joined once: appending with `+=` would leave a rope of ~50 small strings per event
 * that the garbage collector copies while the batch is alive and that is flattened again when the row
 * crosses to the main thread (three times the CPU of the encoding itself, measured on the syslog mix).
 */
export function encodeStoredFields(fields: Readonly<Record<string, unknown>>): string {
  const parts: string[] = ['{'];
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    // JSON.stringify leaves out what JSON cannot hold.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (parts.length > 1) parts.push(',');
    parts.push(KEY_PREFIX.get(name) ?? `${JSON.stringify(storedFieldName(name))}:`);
    // Strings that need no escaping, numbers and booleans directly (as JSON.stringify writes them);
    // the rest through it.
    if (typeof value === 'string') {
      if (NEEDS_ESCAPE.test(value)) parts.push(JSON.stringify(value));
      else parts.push('"', value, '"');
    } else if (typeof value === 'number') parts.push(Number.isFinite(value) ? String(value) : 'null');
    else if (typeof value === 'boolean') parts.push(value ? 'true' : 'false');
    else parts.push(JSON.stringify(value));
  }
  parts.push('}');
  return parts.join('');
}

/** Normalised fields back from their stored JSON. */
export function decodeStoredFields(json: string): Record<string, unknown> {
  const stored = JSON.parse(json) as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(stored)) {
    const name = key.charCodeAt(0) === TILDE ? (NAME_OF.get(key) ?? key.slice(1)) : key;
    setOwn(fields, name, stored[key]);
  }
  return fields;
}
