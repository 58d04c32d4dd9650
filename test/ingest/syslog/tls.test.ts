import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTcp } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSyslogServer, type SyslogServer } from '../../../src/ingest/syslog/index.js';
import { closed, collectingSink, octet, waitFor } from './helpers.js';

const OPENSSL = '/usr/bin/openssl';
const hasOpenssl = existsSync(OPENSSL);

let dir = '';
let key = Buffer.alloc(0);
let cert = Buffer.alloc(0);
let server: SyslogServer | undefined;

beforeAll(() => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'firebreak-syslog-tls-'));
  // The same command docs/syslog.md gives for a test certificate.
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function tlsClient(port: number, withCert: boolean): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: cert,
      servername: 'localhost',
      ...(withCert ? { key, cert } : {}),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe.skipIf(!hasOpenssl)('syslog over TLS (RFC 5425) with a self-signed certificate', () => {
  it('receives octet-counted and newline-framed messages', async () => {
    const c = collectingSink();
    server = await startSyslogServer({ host: '127.0.0.1', tlsPort: 0, tls: { key, cert }, sink: c.sink });
    const socket = await tlsClient(server.addresses().tls!, false);
    socket.write(`${octet('<165>1 2026-01-01T00:00:00Z host app - ID47 - over tls')}<13>line over tls\n`);
    socket.end();
    await waitFor('2 frames', () => c.frames.length === 2);
    expect(c.frames.map((f) => f.text)).toEqual([
      '<165>1 2026-01-01T00:00:00Z host app - ID47 - over tls',
      '<13>line over tls',
    ]);
    expect(c.frames[0]!.transport).toBe('tls');
    expect(c.frames[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('with requestCert, refuses a client without a certificate and accepts one with it', async () => {
    const c = collectingSink();
    server = await startSyslogServer({
      host: '127.0.0.1',
      tlsPort: 0,
      tls: { key, cert, ca: cert, requestCert: true },
      sink: c.sink,
    });
    const port = server.addresses().tls!;
    // TLS 1.3 may finish the client side of the handshake before the server checks: send, then see it refused.
    const anonymous = await tlsClient(port, false).catch(() => undefined);
    if (anonymous !== undefined) {
      anonymous.on('error', () => undefined);
      anonymous.write('<13>should not arrive\n');
      await closed(anonymous);
    }
    await waitFor('handshake failure counted', () => server!.stats().tls!.tlsHandshakeFailures === 1);

    const trusted = await tlsClient(port, true);
    trusted.write('<13>mutual tls\n');
    trusted.end();
    await waitFor('1 frame', () => c.frames.length === 1);
    expect(c.frames.map((f) => f.text)).toEqual(['<13>mutual tls']);
  });

  it('closes promptly with a client stuck before its handshake', async () => {
    const c = collectingSink();
    server = await startSyslogServer({ host: '127.0.0.1', tlsPort: 0, tls: { key, cert }, sink: c.sink });
    const raw = connectTcp({ host: '127.0.0.1', port: server.addresses().tls! });
    raw.on('error', () => undefined);
    await waitFor('connection open', () => server!.stats().tls!.connectionsOpen === 1);
    const started = Date.now();
    await server.close();
    await closed(raw);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
