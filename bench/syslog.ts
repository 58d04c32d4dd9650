/**
 * Syslog over TCP on loopback: frames/s through `startSyslogServer` (newline framing, batching, a
 * sink that only counts) beside a baseline measured in the same run: a plain `net` server that only
 * counts bytes. The client runs in a worker thread so the server's event loop is alone, and writes
 * the same 500,000 RFC 5424 lines (about 110 bytes each) in 1 MiB writes in both cases.
 * Run alone with `node --import tsx bench/syslog.ts`.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startSyslogServer } from '../src/ingest/syslog/index.js';

const FRAMES = 500_000;
const ROUNDS = 3;

const CLIENT = `
const { connect } = require('node:net');
const { workerData, parentPort } = require('node:worker_threads');
const lines = [];
for (let i = 0; i < workerData.frames; i++) {
  lines.push('<13>1 2026-01-01T00:00:00.000Z host.example sshd 4242 - - Accepted publickey for user' + i + ' from 192.0.2.7\\n');
}
const data = Buffer.from(lines.join(''));
parentPort.postMessage({ bytes: data.length });
parentPort.on('message', (port) => {
  const socket = connect({ host: '127.0.0.1', port }, async () => {
    for (let off = 0; off < data.length; off += 1 << 20) {
      if (!socket.write(data.subarray(off, off + (1 << 20)))) {
        await new Promise((r) => socket.once('drain', r));
      }
    }
    socket.end();
  });
  socket.on('close', () => parentPort.postMessage({ done: true }));
});
`;

interface Client {
  readonly bytes: number;
  send(port: number): Promise<void>;
  stop(): Promise<number>;
}

async function startClient(): Promise<Client> {
  const worker = new Worker(CLIENT, { eval: true, workerData: { frames: FRAMES } });
  const [first] = (await once(worker, 'message')) as [{ bytes: number }];
  return {
    bytes: first.bytes,
    send: async (port) => {
      worker.postMessage(port);
      await once(worker, 'message');
    },
    stop: () => worker.terminate(),
  };
}

interface Run {
  /** Wall time from connect to the last frame counted. */
  readonly ms: number;
  /** Time the server's event loop was busy (the client runs in its own thread). */
  readonly busyMs: number;
  readonly calls: number;
}

async function baseline(client: Client): Promise<Run> {
  let bytes = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const server = createServer((socket) =>
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes === client.bytes) done();
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const sent = client.send((server.address() as AddressInfo).port);
  await all;
  const ms = performance.now() - started;
  const busyMs = performance.eventLoopUtilization(elu).active;
  await sent;
  await new Promise((r) => server.close(r));
  return { ms, busyMs, calls: 0 };
}

async function syslog(client: Client): Promise<Run> {
  let frames = 0;
  let calls = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const server = await startSyslogServer({
    host: '127.0.0.1',
    tcpPort: 0,
    batch: { maxFrames: 512, maxDelayMs: 5 },
    sink: async (batch) => {
      calls += 1;
      frames += batch.length;
      if (frames === FRAMES) done();
    },
  });
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const sent = client.send(server.addresses().tcp!);
  await all;
  const ms = performance.now() - started;
  const busyMs = performance.eventLoopUtilization(elu).active;
  await sent;
  await server.close();
  return { ms, busyMs, calls };
}

/** Frames/s of the TCP listener beside a byte-counting baseline; about 10-20 s. */
export async function runSyslogBench(): Promise<string> {
  const client = await startClient();
  try {
    const base: Run[] = [];
    const runs: Run[] = [];
    await syslog(client); // warm-up
    for (let i = 0; i < ROUNDS; i++) {
      base.push(await baseline(client));
      runs.push(await syslog(client));
    }
    const fastest = (list: Run[]) => list.reduce((a, b) => (b.ms < a.ms ? b : a));
    const leastBusy = (list: Run[]) => Math.min(...list.map((r) => r.busyMs));
    const b = fastest(base);
    const r = fastest(runs);
    const mib = client.bytes / (1024 * 1024);
    const perSec = (ms: number) => Math.round(FRAMES / (ms / 1000)).toLocaleString('en');
    const row = (name: string, run: Run, busy: number) =>
      `${name.padEnd(44)}${run.ms.toFixed(0).padStart(6)} ms wall  ${perSec(run.ms).padStart(9)} frames/s  ` +
      `${(mib / (run.ms / 1000)).toFixed(0).padStart(4)} MiB/s  server thread busy ${busy.toFixed(0)} ms ` +
      `(${perSec(busy)} frames per busy s)`;
    return [
      `syslog TCP, ${FRAMES.toLocaleString('en')} newline-framed RFC 5424 frames, ${mib.toFixed(1)} MiB, loopback, best of ${ROUNDS}`,
      row('baseline: plain net server counting bytes', b, leastBusy(base)),
      row('startSyslogServer -> counting sink', r, leastBusy(runs)),
      `sink calls: ${r.calls} (${(FRAMES / r.calls).toFixed(0)} frames per call)`,
      `ratio syslog/baseline: wall ${(r.ms / b.ms).toFixed(2)}, server busy time ${(leastBusy(runs) / leastBusy(base)).toFixed(2)}`,
    ].join('\n');
  } finally {
    await client.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${await runSyslogBench()}\n`);
}
