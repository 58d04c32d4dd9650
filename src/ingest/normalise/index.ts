/**
 * Parsing and normalisation of received events into ECS fields (see docs/normalisation.md).
 * `normalise` is the entry point; the parsers are exported for tests, tools and benchmarks.
 */
export { normalise, parseSyslogLine } from './normalise.js';
export { extractObservables, MAX_OBSERVABLES } from './observables.js';
export type { FieldScalar, FieldValue, Fields, ParseContext, Parsed } from './fields.js';
export { parseSyslogHeader, type SyslogHeader } from './syslog.js';
export { parseOpensshMessage } from './openssh.js';
export { parseSudoMessage } from './sudo.js';
export { parseAuditd } from './auditd.js';
export { parseAccessLog } from './access-log.js';
export { parseCef, parseCefExtension } from './cef.js';
export { parseWindows } from './windows.js';
export { parseSuricata } from './suricata.js';
export { parseZeek } from './zeek.js';
export { parseGenericJson, parseJsonDocument } from './json.js';
