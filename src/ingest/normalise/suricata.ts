/**
 * Suricata EVE JSON (`event_type` alert, anomaly, flow, dns, http, tls, fileinfo, ...). Everything the
 * record carries is kept under `suricata.eve.*` (flattened, bounded); the common parts are mapped to ECS.
 */
import { parseAnyTime } from './time.js';
import { hashKind, isObject, put, putAddress, type Fields, type Parsed } from './fields.js';
import { flattenInto, get, getInt, getStr, newBudget, tagIfTruncated } from './flatten.js';

/** Whether a JSON document is a Suricata EVE record. */
export function isSuricataEve(doc: Record<string, unknown>): boolean {
  return typeof doc['event_type'] === 'string' && ('src_ip' in doc || 'flow_id' in doc || 'timestamp' in doc);
}

function putHttp(fields: Fields, http: unknown): void {
  if (!isObject(http)) return;
  const host = getStr(http, 'hostname');
  const url = getStr(http, 'url');
  put(fields, 'url.domain', host);
  put(fields, 'url.original', url);
  if (url !== undefined) {
    const q = url.indexOf('?');
    put(fields, 'url.path', q < 0 ? url : url.slice(0, q));
    if (q >= 0) put(fields, 'url.query', url.slice(q + 1));
    if (host !== undefined && url.startsWith('/')) put(fields, 'url.full', `http://${host}${url}`);
  }
  put(fields, 'http.request.method', getStr(http, 'http_method'));
  put(fields, 'http.response.status_code', getInt(http, 'status'));
  put(fields, 'http.response.body.bytes', getInt(http, 'length'));
  put(fields, 'http.request.referrer', getStr(http, 'http_refer'));
  put(fields, 'user_agent.original', getStr(http, 'http_user_agent'));
  put(fields, 'http.response.mime_type', getStr(http, 'http_content_type'));
  const proto = getStr(http, 'protocol');
  if (proto !== undefined) put(fields, 'http.version', proto.startsWith('HTTP/') ? proto.slice(5) : proto);
}

function putDns(fields: Fields, dns: unknown): void {
  if (!isObject(dns)) return;
  // EVE v1/v2 records carry `rrname`; Suricata 7+ queries carry `queries: [{rrname, rrtype}]`.
  const queries = dns['queries'];
  const first = Array.isArray(queries) ? queries[0] : undefined;
  put(fields, 'dns.question.name', getStr(dns, 'rrname') ?? getStr(first, 'rrname'));
  put(fields, 'dns.question.type', getStr(dns, 'rrtype') ?? getStr(first, 'rrtype'));
  put(fields, 'dns.id', getStr(dns, 'id'));
  put(fields, 'dns.response_code', getStr(dns, 'rcode'));
  const type = getStr(dns, 'type');
  if (type === 'query' || type === 'answer') put(fields, 'dns.type', type);
}

function putTls(fields: Fields, tls: unknown): void {
  if (!isObject(tls)) return;
  const sni = getStr(tls, 'sni');
  put(fields, 'tls.client.server_name', sni);
  put(fields, 'destination.domain', sni);
  const version = getStr(tls, 'version');
  if (version !== undefined) {
    const sp = version.indexOf(' ');
    if (sp > 0) {
      put(fields, 'tls.version_protocol', version.slice(0, sp).toLowerCase());
      put(fields, 'tls.version', version.slice(sp + 1));
    } else put(fields, 'tls.version', version);
  }
  put(fields, 'tls.server.subject', getStr(tls, 'subject'));
  put(fields, 'tls.server.issuer', getStr(tls, 'issuerdn'));
  const fp = getStr(tls, 'fingerprint');
  if (fp !== undefined) put(fields, 'tls.server.hash.sha1', fp.split(':').join('').toUpperCase());
  put(fields, 'tls.client.ja3', getStr(tls, 'ja3', 'hash'));
  put(fields, 'tls.server.ja3s', getStr(tls, 'ja3s', 'hash'));
  put(fields, 'tls.server.not_before', getStr(tls, 'notbefore'));
  put(fields, 'tls.server.not_after', getStr(tls, 'notafter'));
}

function putFile(fields: Fields, file: unknown): void {
  if (!isObject(file)) return;
  put(fields, 'file.path', getStr(file, 'filename'));
  put(fields, 'file.size', getInt(file, 'size'));
  for (const algo of ['md5', 'sha1', 'sha256'] as const) {
    const h = getStr(file, algo);
    if (h !== undefined && hashKind(h) === algo) put(fields, `file.hash.${algo}`, h.toLowerCase());
  }
}

/**
 * Pure; never throws. Parses a Suricata EVE record; returns undefined when `doc` is not one.
 */
export function parseSuricata(doc: Record<string, unknown>): Parsed | undefined {
  if (!isSuricataEve(doc)) return undefined;
  const fields: Fields = {};
  const budget = newBudget();
  flattenInto(fields, doc, 'suricata.eve', budget);
  tagIfTruncated(fields, budget);
  const type = String(doc['event_type']);
  put(fields, 'event.module', 'suricata');
  put(fields, 'event.dataset', 'suricata.eve');
  put(fields, 'observer.product', 'Suricata');
  put(fields, 'observer.vendor', 'OISF');
  put(fields, 'observer.type', 'ids');
  put(fields, 'observer.ingress.interface.name', getStr(doc, 'in_iface'));
  put(fields, 'host.name', getStr(doc, 'host'));
  putAddress(fields, 'source', getStr(doc, 'src_ip'));
  put(fields, 'source.port', getInt(doc, 'src_port'));
  putAddress(fields, 'destination', getStr(doc, 'dest_ip'));
  put(fields, 'destination.port', getInt(doc, 'dest_port'));
  put(fields, 'network.transport', getStr(doc, 'proto')?.toLowerCase());
  put(fields, 'network.protocol', getStr(doc, 'app_proto')?.toLowerCase());
  put(fields, 'network.community_id', getStr(doc, 'community_id'));
  const alert = doc['alert'];
  if (type === 'alert' && isObject(alert)) {
    put(fields, 'event.kind', 'alert');
    put(fields, 'event.category', ['network', 'intrusion_detection']);
    put(fields, 'rule.name', getStr(alert, 'signature'));
    put(fields, 'rule.id', getStr(alert, 'signature_id'));
    put(fields, 'rule.category', getStr(alert, 'category'));
    put(fields, 'event.severity', getInt(alert, 'severity'));
    put(fields, 'message', getStr(alert, 'signature'));
    const action = getStr(alert, 'action');
    if (action === 'allowed') put(fields, 'event.type', ['allowed']);
    else if (action === 'blocked') put(fields, 'event.type', ['denied']);
  } else {
    put(fields, 'event.kind', 'event');
    put(fields, 'event.category', ['network']);
    put(fields, 'event.type', type === 'flow' ? ['connection', 'end'] : ['protocol']);
  }
  put(fields, 'event.action', type);
  putHttp(fields, doc['http']);
  putDns(fields, doc['dns']);
  putTls(fields, doc['tls']);
  putFile(fields, doc['fileinfo']);
  const flow = doc['flow'];
  if (isObject(flow)) {
    put(fields, 'source.bytes', getInt(flow, 'bytes_toserver'));
    put(fields, 'destination.bytes', getInt(flow, 'bytes_toclient'));
    put(fields, 'source.packets', getInt(flow, 'pkts_toserver'));
    put(fields, 'destination.packets', getInt(flow, 'pkts_toclient'));
    const start = parseAnyTime(get(flow, 'start'));
    const end = parseAnyTime(get(flow, 'end'));
    if (start !== undefined) put(fields, 'event.start', new Date(start).toISOString());
    if (end !== undefined) put(fields, 'event.end', new Date(end).toISOString());
  }
  const anomaly = doc['anomaly'];
  if (type === 'anomaly' && isObject(anomaly))
    put(fields, 'message', getStr(anomaly, 'event') ?? getStr(anomaly, 'type'));
  return { parser: 'suricata', fields, time: parseAnyTime(doc['timestamp']) };
}
