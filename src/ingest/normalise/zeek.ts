/**
 * Zeek JSON logs (conn, dns, http, ssl, notice, files, ...). The log is named by `_path` when the
 * shipper adds it, else by the source name (`conn.log`), else guessed from the keys it carries.
 * Everything is kept under `zeek.<log>.*`; the common parts are mapped to ECS.
 */
import { parseAnyTime } from './time.js';
import { put, putAddress, type Fields, type Parsed } from './fields.js';
import { flattenInto, getInt, getStr, newBudget, tagIfTruncated } from './flatten.js';

/** Whether a JSON document is a Zeek log record. */
export function isZeekLog(doc: Record<string, unknown>): boolean {
  if (typeof doc['_path'] === 'string' && ('ts' in doc || 'uid' in doc)) return true;
  return (
    'ts' in doc && ('uid' in doc || 'fuid' in doc) && ('id.orig_h' in doc || 'id' in doc || 'fuid' in doc)
  );
}

/** The log name: `_path`, the file name before `.log`, or a guess from the keys. */
function logName(doc: Record<string, unknown>, sourceName: string | undefined): string {
  const path = doc['_path'];
  if (typeof path === 'string' && /^[a-z0-9_]{1,32}$/.test(path)) return path; // anchored, one class: linear
  if (sourceName !== undefined) {
    const base = sourceName.slice(sourceName.lastIndexOf('/') + 1);
    const m = /^([a-z0-9_]{1,32})(?:\.[0-9:-]+)?\.log$/.exec(base); // anchored, no nested quantifiers: linear
    if (m?.[1] !== undefined) return m[1];
  }
  if ('conn_state' in doc || 'orig_bytes' in doc) return 'conn';
  if ('query' in doc && ('qtype' in doc || 'rcode' in doc || 'qtype_name' in doc)) return 'dns';
  if ('method' in doc || 'status_code' in doc || 'user_agent' in doc) return 'http';
  if ('server_name' in doc || 'cipher' in doc || 'ssl_history' in doc) return 'ssl';
  if ('note' in doc) return 'notice';
  if ('fuid' in doc && 'mime_type' in doc) return 'files';
  if ('auth_success' in doc) return 'ssh';
  return 'unknown';
}

function str(doc: Record<string, unknown>, key: string): string | undefined {
  return getStr(doc, key);
}

/** Dotted `id.orig_h` or nested `id: {orig_h}` (both appear in the wild). */
function idField(doc: Record<string, unknown>, name: string): unknown {
  if (`id.${name}` in doc) return doc[`id.${name}`];
  const id = doc['id'];
  return typeof id === 'object' && id !== null ? (id as Record<string, unknown>)[name] : undefined;
}

function intOf(v: unknown): number | undefined {
  return getInt({ v }, 'v');
}

/**
 * Pure; never throws. Parses a Zeek JSON record; returns undefined when `doc` is not one.
 */
export function parseZeek(doc: Record<string, unknown>, sourceName?: string): Parsed | undefined {
  if (!isZeekLog(doc)) return undefined;
  const log = logName(doc, sourceName);
  const fields: Fields = {};
  const budget = newBudget();
  flattenInto(fields, doc, `zeek.${log}`, budget);
  tagIfTruncated(fields, budget);
  put(fields, 'event.module', 'zeek');
  put(fields, 'event.dataset', `zeek.${log}`);
  put(fields, 'event.kind', log === 'notice' ? 'alert' : 'event');
  put(fields, 'event.category', ['network']);
  put(fields, 'observer.product', 'Zeek');
  put(fields, 'observer.type', 'ids');
  put(fields, 'zeek.session_id', str(doc, 'uid'));
  const origH = idField(doc, 'orig_h');
  const respH = idField(doc, 'resp_h');
  putAddress(fields, 'source', typeof origH === 'string' ? origH : undefined);
  putAddress(fields, 'destination', typeof respH === 'string' ? respH : undefined);
  put(fields, 'source.port', intOf(idField(doc, 'orig_p')));
  put(fields, 'destination.port', intOf(idField(doc, 'resp_p')));
  put(fields, 'network.transport', str(doc, 'proto')?.toLowerCase());
  put(fields, 'network.community_id', str(doc, 'community_id'));
  switch (log) {
    case 'conn':
      put(fields, 'event.type', ['connection']);
      put(fields, 'source.bytes', getInt(doc, 'orig_bytes'));
      put(fields, 'destination.bytes', getInt(doc, 'resp_bytes'));
      put(fields, 'source.packets', getInt(doc, 'orig_pkts'));
      put(fields, 'destination.packets', getInt(doc, 'resp_pkts'));
      put(fields, 'network.protocol', str(doc, 'service'));
      break;
    case 'dns':
      put(fields, 'event.type', ['protocol', 'info']);
      put(fields, 'network.protocol', 'dns');
      put(fields, 'dns.question.name', str(doc, 'query'));
      put(fields, 'dns.question.type', str(doc, 'qtype_name'));
      put(fields, 'dns.response_code', str(doc, 'rcode_name'));
      put(fields, 'dns.id', str(doc, 'trans_id'));
      break;
    case 'http': {
      put(fields, 'event.type', ['protocol', 'info']);
      put(fields, 'network.protocol', 'http');
      const host = str(doc, 'host');
      const uri = str(doc, 'uri');
      put(fields, 'url.domain', host);
      put(fields, 'url.original', uri);
      if (uri !== undefined) {
        const q = uri.indexOf('?');
        put(fields, 'url.path', q < 0 ? uri : uri.slice(0, q));
        if (q >= 0) put(fields, 'url.query', uri.slice(q + 1));
        if (host !== undefined && uri.startsWith('/')) put(fields, 'url.full', `http://${host}${uri}`);
      }
      put(fields, 'http.request.method', str(doc, 'method'));
      put(fields, 'http.response.status_code', getInt(doc, 'status_code'));
      put(fields, 'http.request.body.bytes', getInt(doc, 'request_body_len'));
      put(fields, 'http.response.body.bytes', getInt(doc, 'response_body_len'));
      put(fields, 'http.request.referrer', str(doc, 'referrer'));
      put(fields, 'user_agent.original', str(doc, 'user_agent'));
      put(fields, 'http.version', str(doc, 'version'));
      put(fields, 'user.name', str(doc, 'username'));
      break;
    }
    case 'ssl': {
      put(fields, 'event.type', ['protocol', 'info']);
      put(fields, 'network.protocol', 'tls');
      const sni = str(doc, 'server_name');
      put(fields, 'tls.client.server_name', sni);
      put(fields, 'destination.domain', sni);
      put(fields, 'tls.cipher', str(doc, 'cipher'));
      const version = str(doc, 'version');
      if (version?.startsWith('TLSv')) {
        put(fields, 'tls.version_protocol', 'tls');
        put(fields, 'tls.version', version.slice(4));
      } else put(fields, 'tls.version', version);
      put(
        fields,
        'tls.established',
        typeof doc['established'] === 'boolean' ? doc['established'] : undefined,
      );
      put(fields, 'tls.server.subject', str(doc, 'subject'));
      put(fields, 'tls.server.issuer', str(doc, 'issuer'));
      break;
    }
    case 'notice':
      put(fields, 'event.type', ['info']);
      put(fields, 'rule.name', str(doc, 'note'));
      put(fields, 'message', str(doc, 'msg'));
      break;
    case 'ssh':
      put(fields, 'event.category', ['network', 'authentication']);
      if (typeof doc['auth_success'] === 'boolean')
        put(fields, 'event.outcome', doc['auth_success'] ? 'success' : 'failure');
      break;
  }
  return { parser: 'zeek', fields, time: parseAnyTime(doc['ts']) };
}
