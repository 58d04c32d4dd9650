import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { OperationalError, RateLimitedError, UserError } from '../../../src/core/errors.js';
import {
  startSyslogServer,
  type SyslogFrame,
  type SyslogServer,
  type SyslogServerOptions,
} from '../../../src/ingest/syslog/index.js';
import {
  closed,
  collectingSink,
  deferred,
  delay,
  execFileAsync,
  octet,
  openClient,
  waitFor,
  write,
} from './helpers.js';

const LOGGER = '/usr/bin/logger';
const hasLogger = existsSync(LOGGER);

let server: SyslogServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Omit<SyslogServerOptions, 'host'>): Promise<SyslogServer> {
  server = await startSyslogServer({ host: '127.0.0.1', ...options });
  return server;
}

const texts = (frames: SyslogFrame[]) => frames.map((f) => f.text);

describe.skipIf(!hasLogger)('syslog listeners with the system logger as client', () => {
  it('receives RFC 5424 over TCP (newline framing) and octet counting, RFC 3164 and 5424 over UDP', async () => {
    const clock = new ManualClock('2026-03-04T05:06:07.000Z');
    const c = collectingSink();
    const s = await start({ udpPort: 0, tcpPort: 0, sink: c.sink, clock });
    const { tcp, udp } = s.addresses();
    const log = (...args: string[]) => execFileAsync(LOGGER, ['-n', '127.0.0.1', ...args]);

    await log('--tcp', '--rfc5424', '-P', String(tcp), '-t', 'fbtest', 'hello over tcp');
    await log('--tcp', '--rfc5424', '--octet-count', '-P', String(tcp), '-t', 'fbtest', 'counted');
    await log('--udp', '--rfc3164', '-P', String(udp), '-t', 'fbtest', 'hello over udp');
    await log('--udp', '--rfc5424', '-P', String(udp), '-t', 'fbtest', 'udp 5424');
    await waitFor('4 frames', () => c.frames.length === 4);

    const byText = (needle: string) => c.frames.find((f) => f.text.endsWith(needle))!;
    expect(byText('hello over tcp').text).toMatch(/^<13>1 \S+ \S+ fbtest - - .*hello over tcp$/);
    expect(byText('hello over tcp').transport).toBe('tcp');
    expect(byText('counted').text).toMatch(/^<13>1 .* counted$/);
    expect(byText('hello over udp').text).toMatch(
      /^<13>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ fbtest: hello over udp$/,
    );
    expect(byText('hello over udp').transport).toBe('udp');
    expect(byText('udp 5424').text).toMatch(/^<13>1 /);
    for (const f of c.frames) {
      expect(f.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(f.receivedAt).toBe('2026-03-04T05:06:07.000Z');
      expect(f.truncated).toBeUndefined();
    }
  });

  it('receives many lines from one logger run in order (a file over TCP)', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink });
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const child = execFileAsync(LOGGER, [
      '--tcp',
      '--rfc5424',
      '-n',
      '127.0.0.1',
      '-P',
      String(s.addresses().tcp),
    ]);
    child.child.stdin!.end(lines.join('\n') + '\n');
    await child;
    await waitFor('200 frames', () => c.frames.length === 200);
    expect(c.frames.map((f) => f.text.replace(/^.* /, 'line '))).toEqual(lines);
  });
});

describe('syslog over TCP: framing on raw sockets', () => {
  it('mixes octet counting and newline framing on one connection', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink });
    const socket = await openClient(s.addresses().tcp!);
    await write(socket, `${octet('<13>1 - h a - - - one')}<13>two\r\n${octet('<13>three\nlines')}<13>four\0`);
    socket.end();
    await waitFor('4 frames', () => c.frames.length === 4);
    expect(texts(c.frames)).toEqual(['<13>1 - h a - - - one', '<13>two', '<13>three\nlines', '<13>four']);
  });

  it('reassembles frames split across many TCP chunks', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink });
    const socket = await openClient(s.addresses().tcp!);
    socket.setNoDelay(true);
    const stream = Buffer.from(`<13>split line é\n${octet('<13>split counted €')}<13>tail\n`);
    for (const byte of stream) {
      await write(socket, Buffer.from([byte]));
      await delay(1);
    }
    socket.end();
    await waitFor('3 frames', () => c.frames.length === 3);
    expect(texts(c.frames)).toEqual(['<13>split line é', '<13>split counted €', '<13>tail']);
  });

  it('cuts a huge newline frame to maxFrameBytes and keeps the connection', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink, maxFrameBytes: 1024 });
    const socket = await openClient(s.addresses().tcp!);
    await write(socket, `<13>${'h'.repeat(300_000)}\n<13>after\n`);
    socket.end();
    await waitFor('2 frames', () => c.frames.length === 2);
    expect(c.frames[0]!.text).toHaveLength(1024);
    expect(c.frames[0]!.truncated).toBe(true);
    expect(c.frames[1]!.text).toBe('<13>after');
    expect(s.stats().tcp!.framesTruncated).toBe(1);
  });

  it('closes the connection on an absurd octet count, keeping the frames before it', async () => {
    const c = collectingSink();
    const errors: string[] = [];
    const s = await start({
      tcpPort: 0,
      sink: c.sink,
      onError: (e, ctx) => errors.push(`${ctx.during}:${(e as UserError).code}`),
    });
    const socket = await openClient(s.addresses().tcp!);
    const gone = closed(socket);
    socket.on('error', () => undefined);
    socket.write(`${octet('<13>before')}4294967296 <13>lies about its length`);
    await gone;
    await waitFor('1 frame', () => c.frames.length === 1);
    expect(texts(c.frames)).toEqual(['<13>before']);
    expect(s.stats().tcp!.framingErrors).toBe(1);
    expect(errors).toEqual(['framing:syslog_octet_count_too_large']);
  });

  it('replaces invalid UTF-8 and never throws', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink });
    const socket = await openClient(s.addresses().tcp!);
    await write(
      socket,
      Buffer.concat([Buffer.from('<13>x '), Buffer.from([0xc0, 0xaf, 0xfe]), Buffer.from('\n')]),
    );
    socket.end();
    await waitFor('1 frame', () => c.frames.length === 1);
    expect(c.frames[0]!.text).toBe('<13>x \uFFFD\uFFFD\uFFFD');
  });

  it('delivers a partial last line at close and counts a partial counted frame', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink });
    const a = await openClient(s.addresses().tcp!);
    await write(a, '<13>complete\n<13>no newline');
    a.end();
    const b = await openClient(s.addresses().tcp!);
    await write(b, `${octet('<13>whole')}100 <13>cut short`);
    b.end();
    await waitFor('3 frames', () => c.frames.length === 3);
    await waitFor('partial counted', () => s.stats().tcp!.partialFramesDiscarded === 1);
    expect(texts(c.frames).sort()).toEqual(['<13>complete', '<13>no newline', '<13>whole']);
  });

  it('batches: 5000 frames cost few sink calls', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink, batch: { maxFrames: 512, maxDelayMs: 5 } });
    const socket = await openClient(s.addresses().tcp!);
    const lines = Array.from({ length: 5000 }, (_, i) => `<13>n ${i}\n`).join('');
    await write(socket, lines);
    socket.end();
    await waitFor('5000 frames', () => c.frames.length === 5000);
    expect(c.calls.length).toBeLessThanOrEqual(40);
    expect(c.frames.map((f) => f.text)).toEqual(lines.trimEnd().split('\n'));
  });
});

describe('syslog over TCP: back-pressure and the sink', () => {
  it('stops reading while a batch is in the sink, then delivers every frame once, in order', async () => {
    const gate = deferred();
    const frames: SyslogFrame[] = [];
    let calls = 0;
    const s = await start({
      tcpPort: 0,
      batch: { maxFrames: 256, maxDelayMs: 5 },
      sink: async (batch) => {
        calls += 1;
        if (calls === 1) await gate.promise;
        frames.push(...batch);
      },
    });
    const socket = await openClient(s.addresses().tcp!);
    const total = 200_000;
    const payload = 'p'.repeat(80);
    let i = 0;
    // Write until the kernel buffers are full and the client's own buffer stops draining.
    while (i < total && socket.writableLength < 4 * 1024 * 1024) {
      socket.write(`<13>${i} ${payload}\n`);
      i += 1;
    }
    await delay(300);
    const held = s.stats().tcp!;
    expect(calls).toBe(1);
    expect(held.pauses).toBeGreaterThanOrEqual(1);
    // Only a bounded number of frames was read while the sink held the first batch.
    expect(held.framesReceived).toBeLessThan(256 * 4 + 2000);
    expect(socket.writableLength).toBeGreaterThan(0);
    const stalled = socket.writableLength;
    await delay(100);
    expect(socket.writableLength).toBe(stalled);

    gate.resolve();
    while (i < total) {
      if (!socket.write(`<13>${i} ${payload}\n`)) await new Promise((r) => socket.once('drain', r));
      i += 1;
    }
    socket.end();
    await waitFor('all frames', () => frames.length === total, 20_000);
    const seq = frames.map((f) => Number(f.text.slice(4, f.text.indexOf(' '))));
    expect(seq).toEqual(Array.from({ length: total }, (_, k) => k));
  });

  it('keeps the frames on RateLimitedError, pauses, and offers the same batch again', async () => {
    const offered: string[][] = [];
    const c = collectingSink();
    const s = await start({
      tcpPort: 0,
      sink: async (batch) => {
        offered.push(batch.map((f) => f.text));
        if (offered.length === 1) throw new RateLimitedError('spool_full', 'spool full', 0.1);
        await c.sink(batch);
      },
    });
    const socket = await openClient(s.addresses().tcp!);
    await write(socket, '<13>a\n<13>b\n');
    await waitFor('first offer', () => offered.length === 1);
    await write(socket, '<13>c\n');
    await waitFor('3 frames', () => c.frames.length === 3, 3000);
    expect(offered[0]).toEqual(['<13>a', '<13>b']);
    expect(offered[1]).toEqual(['<13>a', '<13>b']);
    expect(texts(c.frames)).toEqual(['<13>a', '<13>b', '<13>c']);
    const stats = s.stats().tcp!;
    expect(stats.sinkRetries).toBe(1);
    expect(stats.framesDelivered).toBe(3);
    expect(stats.framesDropped).toBe(0);
    socket.destroy();
  });

  it('retries an OperationalError; drops and closes the connection on any other sink error', async () => {
    let calls = 0;
    const c = collectingSink();
    const s = await start({
      tcpPort: 0,
      onError: () => undefined,
      sink: async (batch) => {
        calls += 1;
        if (calls === 1) throw new OperationalError('disk_busy', 'busy');
        if (calls === 3) throw new UserError('bad', 'bad batch');
        await c.sink(batch);
      },
    });
    const a = await openClient(s.addresses().tcp!);
    await write(a, '<13>retried\n');
    await waitFor('retried frame', () => c.frames.length === 1, 3000);
    const gone = closed(a);
    a.on('error', () => undefined);
    await write(a, '<13>refused\n');
    await gone;
    expect(texts(c.frames)).toEqual(['<13>retried']);
    expect(s.stats().tcp!.framesDropped).toBe(1);
  });

  it('refuses connections beyond maxConnections, and accepts again when one closes', async () => {
    const c = collectingSink();
    const s = await start({ tcpPort: 0, sink: c.sink, maxConnections: 2 });
    const port = s.addresses().tcp!;
    const a = await openClient(port);
    const b = await openClient(port);
    await write(a, '<13>a\n');
    await waitFor('a counted', () => s.stats().tcp!.connectionsOpen === 2);
    const third = await openClient(port);
    third.on('error', () => undefined);
    await closed(third);
    expect(s.stats().tcp!.connectionsRefused).toBe(1);
    a.destroy();
    await waitFor('a gone', () => s.stats().tcp!.connectionsOpen === 1);
    const d = await openClient(port);
    await write(d, '<13>d\n');
    await waitFor('2 frames', () => c.frames.length === 2);
    expect(texts(c.frames)).toEqual(['<13>a', '<13>d']);
    b.destroy();
    d.destroy();
  });

  it('closes a connection that stays quiet past idleTimeoutMs, but not one waiting on the sink', async () => {
    const c = collectingSink();
    const gate = deferred();
    let calls = 0;
    const s = await start({
      tcpPort: 0,
      idleTimeoutMs: 300,
      batch: { maxFrames: 1, maxDelayMs: 0 },
      sink: async (frames) => {
        calls += 1;
        // The second connection's first batch waits: its reader is paused meanwhile.
        if (calls === 2) await gate.promise;
        await c.sink(frames);
      },
    });
    const port = s.addresses().tcp!;
    const quiet = await openClient(port);
    await write(quiet, '<13>hello\n');
    await closed(quiet);
    expect(s.stats().tcp!.connectionsIdleClosed).toBe(1);
    expect(texts(c.frames)).toEqual(['<13>hello']);

    const waiting = await openClient(port);
    await write(waiting, '<13>first\n<13>second\n');
    await delay(900);
    expect(waiting.destroyed).toBe(false);
    expect(s.stats().tcp!.connectionsIdleClosed).toBe(1);
    gate.resolve();
    await waitFor('both frames', () => c.frames.length === 3);
    await closed(waiting);
    expect(s.stats().tcp!.connectionsIdleClosed).toBe(2);
  });

  it('closes cleanly with open connections, delivering what was received', async () => {
    const c = collectingSink();
    const s = await start({
      tcpPort: 0,
      udpPort: 0,
      sink: c.sink,
      batch: { maxFrames: 512, maxDelayMs: 10_000 },
    });
    const a = await openClient(s.addresses().tcp!);
    const b = await openClient(s.addresses().tcp!);
    await write(a, '<13>a1\n<13>a-partial');
    await write(b, '<13>b1\n');
    await waitFor('received', () => s.stats().tcp!.bytesReceived === 27);
    const aClosed = closed(a);
    const bClosed = closed(b);
    await s.close();
    await Promise.all([aClosed, bClosed]);
    expect(texts(c.frames).sort()).toEqual(['<13>a-partial', '<13>a1', '<13>b1']);
    const probe = createServer();
    // The port is free again.
    await new Promise<void>((resolve) => probe.listen(s.addresses().tcp, '127.0.0.1', resolve));
    await new Promise((r) => probe.close(r));
  });

  it('gives up on a sink that keeps refusing when close() times out, counting the loss', async () => {
    const s = await start({
      tcpPort: 0,
      closeTimeoutMs: 200,
      sink: async () => {
        throw new RateLimitedError('spool_full', 'full', 0.05);
      },
    });
    const a = await openClient(s.addresses().tcp!);
    await write(a, '<13>x\n<13>y\n');
    await waitFor('offered', () => s.stats().tcp!.sinkCalls >= 1);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(s.stats().tcp!.framesDropped).toBe(2);
  });
});

describe('syslog over UDP', () => {
  it('drops and counts datagrams when the queue is full (no flow control)', async () => {
    const gate = deferred();
    const frames: SyslogFrame[] = [];
    const s = await start({
      udpPort: 0,
      batch: { maxFrames: 5, maxDelayMs: 1 },
      udpQueue: { maxFrames: 10 },
      sink: async (batch) => {
        await gate.promise;
        frames.push(...batch);
      },
    });
    const client = createSocket('udp4');
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((resolve) =>
        client.send(`<13>u${i}\n`, s.addresses().udp!, '127.0.0.1', () => resolve()),
      );
    }
    await waitFor('60 datagrams seen', () => s.stats().udp!.framesReceived === 60);
    const stats = s.stats().udp!;
    expect(stats.framesDropped).toBeGreaterThanOrEqual(60 - 5 - 10 - 1);
    gate.resolve();
    await waitFor('queue empty', () => s.stats().udp!.queuedFrames === 0);
    expect(frames.length).toBe(60 - s.stats().udp!.framesDropped);
    expect(frames[0]!.text).toBe('<13>u0');
    client.close();
  });

  it('cuts an oversized datagram', async () => {
    const c = collectingSink();
    const s = await start({ udpPort: 0, sink: c.sink, maxFrameBytes: 100 });
    const client = createSocket('udp4');
    await new Promise<void>((resolve) =>
      client.send(`<13>${'d'.repeat(1000)}`, s.addresses().udp!, '127.0.0.1', () => resolve()),
    );
    await waitFor('1 frame', () => c.frames.length === 1);
    expect(c.frames[0]).toMatchObject({ truncated: true, transport: 'udp' });
    expect(c.frames[0]!.text).toHaveLength(100);
    client.close();
  });
});

describe('syslog options', () => {
  it('refuses bad options with every problem listed', async () => {
    const error = await startSyslogServer({
      host: '127.0.0.1',
      tlsPort: 0,
      maxFrameBytes: -1,
      sink: async () => undefined,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('syslog_invalid_options');
    const problems = (error as UserError).details.problems as string[];
    expect(problems.some((p) => p.startsWith('maxFrameBytes:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('tls:'))).toBe(true);
  });

  it('fails with syslog_listen_failed on a taken port and leaves nothing listening', async () => {
    const c = collectingSink();
    const first = await start({ tcpPort: 0, sink: c.sink });
    const error = await startSyslogServer({
      host: '127.0.0.1',
      udpPort: 0,
      tcpPort: first.addresses().tcp!,
      sink: c.sink,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationalError);
    expect((error as OperationalError).code).toBe('syslog_listen_failed');
  });
});
