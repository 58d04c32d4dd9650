/** Realistic payloads the integration tests share. */

/** A notification as Alertmanager 0.27 sends it: one firing, one resolved alert in the group. */
export function notification(overrides: Record<string, unknown> = {}) {
  return {
    receiver: 'firebreak',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: {
          alertname: 'ProbeFailure',
          instance: 'https://server.example.org',
          job: 'http_checks',
          severity: 'critical',
        },
        annotations: {
          summary: 'BlackBox probe failure: https://server.example.org',
          description: 'Instance has been down for over 5m.',
        },
        startsAt: '2026-03-01T08:52:26.739266876+01:00',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0',
        fingerprint: '1a30ba71cca2921f',
      },
      {
        status: 'resolved',
        labels: { alertname: 'NodeDown', instance: '10.0.0.5:9100', severity: 'warning' },
        annotations: { summary: 'Node 10.0.0.5 down' },
        startsAt: '2026-03-01T07:00:00Z',
        endsAt: '2026-03-01T08:30:00.5Z',
        generatorURL: 'http://prometheus.example.org:9090/graph',
        fingerprint: 'bc97ff14869b13e3',
      },
    ],
    groupLabels: { alertname: 'ProbeFailure' },
    commonLabels: { job: 'http_checks' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.org:9093',
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="ProbeFailure"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}

/** An EVE alert as Suricata 7 writes it to eve.json. */
export function eveAlert(overrides: Record<string, unknown> = {}) {
  return {
    timestamp: '2026-03-01T08:15:42.123456+0000',
    flow_id: 1805461738637437,
    in_iface: 'eth0',
    event_type: 'alert',
    src_ip: '203.0.113.50',
    src_port: 49152,
    dest_ip: '10.0.0.20',
    dest_port: 80,
    proto: 'TCP',
    community_id: '1:Gd2j7S9mNWTUOjuhOY35SsiNy2o=',
    alert: {
      action: 'allowed',
      gid: 1,
      signature_id: 2024897,
      rev: 3,
      signature: 'ET USER_AGENTS Go HTTP Client User-Agent',
      category: 'Potentially Bad Traffic',
      severity: 2,
    },
    http: {
      hostname: 'intranet.example.com',
      url: '/login',
      http_user_agent: 'Go-http-client/1.1',
      http_method: 'POST',
      protocol: 'HTTP/1.1',
      status: 200,
      length: 512,
    },
    app_proto: 'http',
    flow: {
      pkts_toserver: 4,
      pkts_toclient: 3,
      bytes_toserver: 420,
      bytes_toclient: 880,
      start: '2026-03-01T08:15:42.100000+0000',
    },
    ...overrides,
  };
}

export const EVE_DNS = {
  timestamp: '2026-03-01T08:15:40.000100+0000',
  flow_id: 99,
  event_type: 'dns',
  src_ip: '10.0.0.20',
  dest_ip: '10.0.0.1',
  proto: 'UDP',
  dns: { version: 3, type: 'request', id: 4321, rrname: 'evil.example.net', rrtype: 'A', tx_id: 0 },
};

export const EVE_FLOW = {
  timestamp: '2026-03-01T08:16:00.000000+0000',
  flow_id: 100,
  event_type: 'flow',
  src_ip: '10.0.0.20',
  dest_ip: '198.51.100.9',
  proto: 'TCP',
  flow: { pkts_toserver: 10, pkts_toclient: 9, state: 'closed', reason: 'timeout' },
};

/** A Wazuh 4.x alert (sshd brute force) as alerts.json holds it. */
export function wazuhAlert(overrides: Record<string, unknown> = {}) {
  return {
    timestamp: '2026-03-01T08:20:11.512+0000',
    rule: {
      level: 10,
      description: 'sshd: brute force trying to get access to the system. Non existent user.',
      id: '5712',
      mitre: { id: ['T1110'], tactic: ['Credential Access'], technique: ['Brute Force'] },
      frequency: 8,
      firedtimes: 1,
      groups: ['syslog', 'sshd', 'authentication_failures'],
    },
    agent: { id: '003', name: 'web-01', ip: '10.0.0.21' },
    manager: { name: 'wazuh-manager' },
    id: '1772353211.4521',
    full_log: 'Mar  1 08:20:11 web-01 sshd[1234]: Invalid user admin from 198.51.100.23 port 52144',
    decoder: { parent: 'sshd', name: 'sshd' },
    data: { srcip: '198.51.100.23', srcport: '52144', srcuser: 'admin' },
    location: '/var/log/auth.log',
    ...overrides,
  };
}

/** A Wazuh file integrity (syscheck) alert. */
export const WAZUH_SYSCHECK = {
  timestamp: '2026-03-01T08:25:00.000+0000',
  rule: { level: 7, description: 'Integrity checksum changed.', id: '550', groups: ['ossec', 'syscheck'] },
  agent: { id: '003', name: 'web-01' },
  id: '1772353500.9001',
  syscheck: {
    path: '/etc/passwd',
    event: 'modified',
    md5_after: '0a4f1e7f3d05ae2b2d7f5e2c4b06e33d',
    sha1_after: 'f6e1126cedebf23e1463aee73f9df08783640400',
    sha256_after: '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592',
  },
  location: 'syscheck',
};
