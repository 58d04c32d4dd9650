import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalise, parseSuricata, parseZeek } from '../../../src/ingest/normalise/index.js';
import { buildReceived, expectParsed, expectShape } from './support.js';

const ALERT = {
  timestamp: '2024-11-19T07:01:02.123456+0000',
  flow_id: 1234567890,
  in_iface: 'eth0',
  event_type: 'alert',
  src_ip: '203.0.113.7',
  src_port: 51234,
  dest_ip: '10.0.0.5',
  dest_port: 80,
  proto: 'TCP',
  app_proto: 'http',
  alert: {
    action: 'allowed',
    gid: 1,
    signature_id: 2019401,
    rev: 3,
    signature: 'ET SCAN Suspicious User-Agent',
    category: 'Attempted Information Leak',
    severity: 2,
  },
  http: {
    hostname: 'shop.example',
    url: '/admin?x=1',
    http_user_agent: 'sqlmap/1.7',
    http_method: 'GET',
    protocol: 'HTTP/1.1',
    status: 403,
    length: 120,
  },
};

describe('Suricata EVE', () => {
  it('alert: network, rule and HTTP fields; time with +0000', () => {
    const r = parseSuricata(ALERT);
    expect(r?.time).toBe(Date.parse('2024-11-19T07:01:02.123Z'));
    expect(r?.fields).toMatchObject({
      'event.dataset': 'suricata.eve',
      'event.kind': 'alert',
      'source.ip': '203.0.113.7',
      'source.port': 51234,
      'destination.ip': '10.0.0.5',
      'destination.port': 80,
      'network.transport': 'tcp',
      'rule.name': 'ET SCAN Suspicious User-Agent',
      'rule.id': '2019401',
      'event.severity': 2,
      'url.original': '/admin?x=1',
      'url.domain': 'shop.example',
      'url.full': 'http://shop.example/admin?x=1',
      'http.request.method': 'GET',
      'http.response.status_code': 403,
      'http.version': '1.1',
      'user_agent.original': 'sqlmap/1.7',
      'suricata.eve.alert.category': 'Attempted Information Leak',
      'suricata.eve.flow_id': 1234567890,
    });
  });

  it('dns (v2 and v3 query shapes), tls, fileinfo, flow', () => {
    const base = {
      timestamp: '2024-11-19T07:01:02Z',
      src_ip: '10.0.0.5',
      dest_ip: '10.0.0.53',
      proto: 'UDP',
    };
    expect(
      parseSuricata({
        ...base,
        event_type: 'dns',
        dns: { type: 'query', rrname: 'evil.example', rrtype: 'A' },
      })?.fields,
    ).toMatchObject({
      'dns.question.name': 'evil.example',
      'dns.question.type': 'A',
    });
    expect(
      parseSuricata({
        ...base,
        event_type: 'dns',
        dns: { version: 3, queries: [{ rrname: 'c2.example', rrtype: 'TXT' }] },
      })?.fields,
    ).toMatchObject({
      'dns.question.name': 'c2.example',
    });
    expect(
      parseSuricata({
        ...base,
        event_type: 'tls',
        tls: { sni: 'login.example', version: 'TLS 1.2', fingerprint: 'aa:bb', ja3: { hash: 'abc' } },
      })?.fields,
    ).toMatchObject({
      'tls.client.server_name': 'login.example',
      'tls.version': '1.2',
      'tls.version_protocol': 'tls',
      'tls.server.hash.sha1': 'AABB',
      'tls.client.ja3': 'abc',
    });
    expect(
      parseSuricata({
        ...base,
        event_type: 'fileinfo',
        fileinfo: { filename: '/x.exe', size: 10, md5: 'D41D8CD98F00B204E9800998ECF8427E' },
      })?.fields,
    ).toMatchObject({
      'file.path': '/x.exe',
      'file.size': 10,
      'file.hash.md5': 'd41d8cd98f00b204e9800998ecf8427e',
    });
    expect(
      parseSuricata({ ...base, event_type: 'flow', flow: { bytes_toserver: 100, bytes_toclient: 2000 } })
        ?.fields,
    ).toMatchObject({
      'source.bytes': 100,
      'destination.bytes': 2000,
      'event.kind': 'event',
    });
  });

  it('recognised automatically from text and by hint', () => {
    expect(normalise(buildReceived(JSON.stringify(ALERT))).parser).toBe('suricata');
    expect(normalise(buildReceived(ALERT, 'suricata')).parser).toBe('suricata');
  });
});

describe('Zeek', () => {
  it('conn with _path', () => {
    const r = parseZeek({
      _path: 'conn',
      ts: 1732000000.25,
      uid: 'CAbc1',
      'id.orig_h': '10.0.0.5',
      'id.orig_p': 50000,
      'id.resp_h': '198.51.100.9',
      'id.resp_p': 22,
      proto: 'tcp',
      service: 'ssh',
      orig_bytes: 1500,
      resp_bytes: 3200,
      conn_state: 'SF',
    });
    expect(r?.time).toBe(1732000000250);
    expect(r?.fields).toMatchObject({
      'event.dataset': 'zeek.conn',
      'source.ip': '10.0.0.5',
      'source.port': 50000,
      'destination.ip': '198.51.100.9',
      'destination.port': 22,
      'source.bytes': 1500,
      'destination.bytes': 3200,
      'network.transport': 'tcp',
      'zeek.conn.conn_state': 'SF',
    });
  });

  it('dns, http, ssl named by the source file or the keys; ISO ts', () => {
    const dns = parseZeek({
      ts: '2024-11-19T07:01:02.5Z',
      uid: 'C1',
      'id.orig_h': '10.0.0.5',
      'id.resp_h': '10.0.0.53',
      query: 'evil.example',
      qtype_name: 'A',
      rcode_name: 'NOERROR',
    });
    expect(dns?.fields).toMatchObject({ 'event.dataset': 'zeek.dns', 'dns.question.name': 'evil.example' });
    expect(dns?.time).toBe(Date.parse('2024-11-19T07:01:02.500Z'));
    const http = parseZeek(
      {
        ts: 1,
        uid: 'C2',
        'id.orig_h': '10.0.0.5',
        'id.resp_h': '10.0.0.6',
        method: 'POST',
        host: 'api.example',
        uri: '/upload?id=1',
        status_code: 200,
      },
      '/var/log/zeek/http.log',
    );
    expect(http?.fields).toMatchObject({
      'event.dataset': 'zeek.http',
      'url.full': 'http://api.example/upload?id=1',
      'http.request.method': 'POST',
    });
    const ssl = parseZeek({
      ts: 1,
      uid: 'C3',
      id: { orig_h: '10.0.0.5', resp_h: '10.0.0.7' },
      server_name: 'x.example',
      version: 'TLSv13',
    });
    expect(ssl?.fields).toMatchObject({
      'event.dataset': 'zeek.ssl',
      'tls.client.server_name': 'x.example',
      'source.ip': '10.0.0.5',
    });
  });

  it('declines documents without ts and uid', () => {
    expect(parseZeek({ query: 'x' })).toBeUndefined();
  });
});

describe('Suricata and Zeek fuzz', () => {
  it('never throws on arbitrary values under their keys', () => {
    const v = fc.jsonValue({ maxDepth: 3 });
    const suricata = fc.record({
      event_type: fc.oneof(
        fc.constantFrom('alert', 'dns', 'http', 'tls', 'flow', 'fileinfo', 'anomaly'),
        fc.string(),
      ),
      timestamp: v,
      src_ip: v,
      src_port: v,
      dest_ip: v,
      alert: v,
      dns: v,
      http: v,
      tls: v,
      flow: v,
      fileinfo: v,
    });
    const zeek = fc.record({
      ts: v,
      uid: v,
      'id.orig_h': v,
      'id.orig_p': v,
      id: v,
      _path: v,
      query: v,
      host: v,
      uri: v,
      version: v,
    });
    fc.assert(
      fc.property(suricata, zeek, (s, z) => {
        expectParsed(parseSuricata(s));
        expectParsed(parseZeek(z));
        expectShape(normalise(buildReceived(s)));
        expectShape(normalise(buildReceived(z, 'zeek')));
      }),
      { numRuns: 400 },
    );
  });
});
