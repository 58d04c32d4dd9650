/**
 * The syslog listeners: UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425). They frame what arrives
 * and hand frames to a sink in batches; they never parse syslog content. See docs/syslog.md.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, isIPv6, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/clock.js';
import { OperationalError, UserError } from '../../core/errors.js';
import { FrameBatcher, newListenerStats, type BatchMember } from './batcher.js';
import { StreamFramer, trimTrailers, utf8Boundary, type FramerLimits } from './framing.js';
import type {
  SyslogErrorContext,
  SyslogFrame,
  SyslogListenerStats,
  SyslogServer,
  SyslogServerOptions,
  SyslogTransport,
} from './types.js';

export const SYSLOG_DEFAULTS = {
  maxFrameBytes: 65_536,
  maxOctetCountFactor: 16,
  maxConnections: 1024,
  batchMaxFrames: 512,
  batchMaxDelayMs: 5,
  udpQueueFrames: 8192,
  udpQueueBytes: 16 * 1024 * 1024,
  maxQueueBytes: 4 * 1024 * 1024,
  closeTimeoutMs: 5000,
  idleTimeoutMs: 0,
} as const;

const port = z.number().int().min(0).max(65_535);
const positive = z.number().int().positive();
const OptionsSchema = z
  .object({
    host: z.string().min(1),
    udpPort: port.optional(),
    tcpPort: port.optional(),
    tlsPort: port.optional(),
    maxFrameBytes: positive
      .min(16)
      .max(16 * 1024 * 1024)
      .optional(),
    maxOctetCount: positive.optional(),
    maxConnections: positive.optional(),
    batch: z.object({ maxFrames: positive.optional(), maxDelayMs: z.number().min(0).optional() }).optional(),
    udpQueue: z.object({ maxFrames: positive.optional(), maxBytes: positive.optional() }).optional(),
    maxQueueBytes: positive.optional(),
    closeTimeoutMs: z.number().min(0).optional(),
    idleTimeoutMs: z.number().int().min(0).optional(),
  })
  .refine((o) => o.udpPort !== undefined || o.tcpPort !== undefined || o.tlsPort !== undefined, {
    message: 'at least one of udpPort, tcpPort, tlsPort is required',
  });

interface Resolved {
  readonly limits: FramerLimits;
  readonly maxConnections: number;
  readonly maxFrames: number;
  readonly maxDelayMs: number;
  readonly udpQueueFrames: number;
  readonly udpQueueBytes: number;
  readonly maxQueueBytes: number;
  readonly closeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly clock: Clock;
  readonly onError: (error: unknown, context: SyslogErrorContext) => void;
}

interface Listener {
  readonly transport: SyslogTransport;
  readonly port: number;
  readonly stats: SyslogListenerStats;
  close(): Promise<void>;
}

/**
 * Start the enabled listeners (each port given, 0 = any free port). Resolves once all are bound.
 * Throws UserError `syslog_invalid_options` for bad options, OperationalError
 * `syslog_listen_failed` when a port cannot be bound (nothing is left listening then).
 */
export async function startSyslogServer(options: SyslogServerOptions): Promise<SyslogServer> {
  const parsed = OptionsSchema.safeParse(options);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
  if (typeof options.sink !== 'function') problems.push('sink: a function is required');
  if (options.tlsPort !== undefined && options.tls === undefined) {
    problems.push('tls: key and cert are required when tlsPort is set');
  }
  if (problems.length > 0) {
    throw new UserError('syslog_invalid_options', `invalid syslog options: ${problems.join('; ')}`, {
      problems,
    });
  }
  const maxFrameBytes = options.maxFrameBytes ?? SYSLOG_DEFAULTS.maxFrameBytes;
  const userOnError = options.onError;
  const resolved: Resolved = {
    limits: {
      maxFrameBytes,
      maxOctetCount: Math.max(
        options.maxOctetCount ?? maxFrameBytes * SYSLOG_DEFAULTS.maxOctetCountFactor,
        maxFrameBytes,
      ),
    },
    maxConnections: options.maxConnections ?? SYSLOG_DEFAULTS.maxConnections,
    maxFrames: options.batch?.maxFrames ?? SYSLOG_DEFAULTS.batchMaxFrames,
    maxDelayMs: options.batch?.maxDelayMs ?? SYSLOG_DEFAULTS.batchMaxDelayMs,
    udpQueueFrames: options.udpQueue?.maxFrames ?? SYSLOG_DEFAULTS.udpQueueFrames,
    udpQueueBytes: options.udpQueue?.maxBytes ?? SYSLOG_DEFAULTS.udpQueueBytes,
    maxQueueBytes: options.maxQueueBytes ?? SYSLOG_DEFAULTS.maxQueueBytes,
    closeTimeoutMs: options.closeTimeoutMs ?? SYSLOG_DEFAULTS.closeTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? SYSLOG_DEFAULTS.idleTimeoutMs,
    clock: options.clock ?? systemClock,
    onError: (error, context) => {
      try {
        userOnError?.(error, context);
      } catch {
        // A failing error reporter must not take a listener down.
      }
    },
  };

  const budget = { open: 0 };
  const listeners: Listener[] = [];
  try {
    if (options.udpPort !== undefined) {
      listeners.push(await startUdp(options, resolved, options.udpPort));
    }
    if (options.tcpPort !== undefined) {
      listeners.push(await startStream('tcp', options, resolved, budget, options.tcpPort));
    }
    if (options.tlsPort !== undefined) {
      listeners.push(await startStream('tls', options, resolved, budget, options.tlsPort));
    }
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    addresses: () => Object.fromEntries(listeners.map((l) => [l.transport, l.port])),
    stats: () => Object.fromEntries(listeners.map((l) => [l.transport, { ...l.stats }])),
    close: () => (closing ??= Promise.all(listeners.map((l) => l.close())).then(() => undefined)),
  };
}

/** `203.0.113.7:514`, `[2001:db8::1]:514`; IPv4-mapped IPv6 addresses shown as IPv4. */
export function formatPeer(address: string | undefined, port: number | undefined): string {
  const host = address?.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (host === undefined) return 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}

function listenFailed(transport: SyslogTransport, portNumber: number, cause: unknown): never {
  throw new OperationalError(
    'syslog_listen_failed',
    `cannot listen for syslog over ${transport} on port ${portNumber}`,
    { transport, port: portNumber },
    { cause },
  );
}

async function startUdp(
  options: SyslogServerOptions,
  resolved: Resolved,
  portNumber: number,
): Promise<Listener> {
  const stats = newListenerStats();
  const batcher = new FrameBatcher({
    transport: 'udp',
    sink: options.sink,
    maxFrames: resolved.maxFrames,
    maxDelayMs: resolved.maxDelayMs,
    capacityFrames: resolved.udpQueueFrames,
    capacityBytes: resolved.udpQueueBytes,
    stats,
    onError: resolved.onError,
  });
  const socket: UdpSocket = createSocket(isIPv6(options.host) ? 'udp6' : 'udp4');
  let closed = false;
  socket.on('message', (message: Buffer, remote: RemoteInfo) => {
    if (closed) return;
    stats.bytesReceived += message.length;
    if (!batcher.hasRoom()) {
      batcher.countDropped();
      return;
    }
    const max = resolved.limits.maxFrameBytes;
    const cut = message.length > max ? utf8Boundary(message, max) : message.length;
    const text = trimTrailers(message, cut);
    if (text.length === 0) return;
    const frame: SyslogFrame = {
      text,
      peer: formatPeer(remote.address, remote.port),
      transport: 'udp',
      receivedAt: resolved.clock.now().toISOString(),
      ...(cut < message.length ? { truncated: true as const } : {}),
    };
    if (frame.truncated) stats.framesTruncated += 1;
    batcher.add(frame);
  });
  socket.on('error', (error) => resolved.onError(error, { transport: 'udp', during: 'socket' }));
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.bind(portNumber, options.host, () => {
      socket.off('error', onError);
      resolve();
    });
  }).catch((error: unknown) => {
    socket.close();
    listenFailed('udp', portNumber, error);
  });
  return {
    transport: 'udp',
    port: socket.address().port,
    stats,
    close: async () => {
      if (closed) return;
      closed = true;
      socket.close();
      await batcher.close(resolved.closeTimeoutMs);
    },
  };
}

async function startStream(
  transport: 'tcp' | 'tls',
  options: SyslogServerOptions,
  resolved: Resolved,
  budget: { open: number },
  portNumber: number,
): Promise<Listener> {
  const stats = newListenerStats();
  const batcher = new FrameBatcher({
    transport,
    sink: options.sink,
    maxFrames: resolved.maxFrames,
    maxDelayMs: resolved.maxDelayMs,
    capacityFrames: resolved.maxFrames,
    capacityBytes: resolved.maxQueueBytes,
    stats,
    onError: resolved.onError,
  });
  const connections = new Set<StreamConnection>();
  // Every accepted raw socket, TLS ones still in their handshake included, so close() can end them.
  const sockets = new Set<Socket>();
  const refused = new WeakSet<Socket>();
  let closing = false;

  const accept = (socket: Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    const connection = new StreamConnection(socket, transport, resolved, batcher, stats, () =>
      connections.delete(connection),
    );
    connections.add(connection);
  };

  let server: Server;
  if (transport === 'tls') {
    const tls = options.tls!;
    const tlsServer = createTlsServer({
      key: tls.key,
      cert: tls.cert,
      ...(tls.ca !== undefined ? { ca: tls.ca as string | Buffer | Array<string | Buffer> } : {}),
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.requestCert ?? false,
      minVersion: 'TLSv1.2',
    });
    tlsServer.on('secureConnection', accept);
    tlsServer.on('tlsClientError', (error, socket) => {
      if (refused.has(socket)) return;
      stats.tlsHandshakeFailures += 1;
      resolved.onError(error, {
        transport,
        peer: formatPeer(socket.remoteAddress, socket.remotePort),
        during: 'tls_handshake',
      });
    });
    server = tlsServer;
  } else {
    server = createTcpServer();
  }

  // Count raw sockets (TLS ones from before the handshake too) against one shared budget.
  server.on('connection', (raw: Socket) => {
    if (budget.open >= resolved.maxConnections || closing) {
      stats.connectionsRefused += 1;
      refused.add(raw);
      raw.on('error', () => undefined);
      raw.destroy();
      return;
    }
    budget.open += 1;
    stats.connectionsAccepted += 1;
    stats.connectionsOpen += 1;
    sockets.add(raw);
    raw.setKeepAlive(true, 60_000);
    raw.once('close', () => {
      budget.open -= 1;
      stats.connectionsOpen -= 1;
      sockets.delete(raw);
    });
    if (transport === 'tcp') accept(raw);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: portNumber, host: options.host }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => listenFailed(transport, portNumber, error));
  server.on('error', (error) => resolved.onError(error, { transport, during: 'socket' }));

  const address = server.address();
  return {
    transport,
    port: typeof address === 'object' && address !== null ? address.port : portNumber,
    stats,
    close: async () => {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.stopReading();
      await batcher.close(resolved.closeTimeoutMs);
      for (const connection of [...connections]) connection.destroy();
      for (const socket of [...sockets]) socket.destroy();
      await stopped;
    },
  };
}

/** One TCP or TLS connection: frames its bytes, pauses while its frames wait for the sink. */
class StreamConnection implements BatchMember {
  private readonly framer: StreamFramer;
  private readonly peer: string;
  private holds = 0;
  private waitingForRoom = false;
  private paused = false;
  private ended = false;
  private readonly wake = (): void => {
    this.waitingForRoom = false;
    this.update();
  };

  constructor(
    private readonly socket: Socket,
    private readonly transport: 'tcp' | 'tls',
    private readonly resolved: Resolved,
    private readonly batcher: FrameBatcher,
    private readonly stats: SyslogListenerStats,
    private readonly forget: () => void,
  ) {
    this.framer = new StreamFramer(resolved.limits);
    this.peer = formatPeer(socket.remoteAddress, socket.remotePort);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A sender going away mid-stream is ordinary; only report what is not.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      resolved.onError(error, { transport, peer: this.peer, during: 'socket' });
    });
    socket.on('close', () => {
      this.finish();
      this.batcher.cancelWait(this.wake);
      this.forget();
    });
    if (resolved.idleTimeoutMs > 0) {
      socket.setTimeout(resolved.idleTimeoutMs);
      socket.on('timeout', () => {
        // Quiet because we stopped reading (back-pressure) is not idle: the sender waits for us.
        // The timer fires once per quiet spell: arm it again.
        if (this.paused) {
          socket.setTimeout(resolved.idleTimeoutMs);
          return;
        }
        stats.connectionsIdleClosed += 1;
        socket.destroy();
      });
    }
  }

  hold(): void {
    this.holds += 1;
    this.update();
  }

  release(): void {
    this.holds -= 1;
    this.update();
  }

  abort(): void {
    this.socket.destroy();
  }

  /** The server is closing: read no more, hand over the partial frame. */
  stopReading(): void {
    this.finish();
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.stats.bytesReceived += chunk.length;
    const receivedAt = this.resolved.clock.now().toISOString();
    const failure = this.framer.push(chunk, (text, truncated) => this.emit(text, truncated, receivedAt));
    if (failure !== undefined) {
      this.stats.framingErrors += 1;
      this.ended = true;
      this.resolved.onError(new UserError(failure.code, failure.message, { peer: this.peer }), {
        transport: this.transport,
        peer: this.peer,
        during: 'framing',
      });
      // The sender sees the connection close; frames before the bad one are still delivered.
      this.socket.destroy();
      return;
    }
    if (!this.batcher.hasRoom()) {
      this.waitingForRoom = true;
      this.batcher.waitForRoom(this.wake);
      this.update();
    }
  }

  private emit(text: string, truncated: boolean, receivedAt: string): void {
    if (truncated) this.stats.framesTruncated += 1;
    this.batcher.add(
      truncated
        ? { text, peer: this.peer, transport: this.transport, receivedAt, truncated: true }
        : { text, peer: this.peer, transport: this.transport, receivedAt },
      this,
    );
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const receivedAt = this.resolved.clock.now().toISOString();
    const left = this.framer.end((text, truncated) => this.emit(text, truncated, receivedAt));
    if (left === 'partial_octet_frame') this.stats.partialFramesDiscarded += 1;
  }

  private update(): void {
    if (this.socket.destroyed) return;
    const pause = this.holds > 0 || this.waitingForRoom || this.ended;
    if (pause && !this.paused) {
      this.paused = true;
      if (!this.ended) this.stats.pauses += 1;
      this.socket.pause();
    } else if (!pause && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
