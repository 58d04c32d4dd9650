/** The shapes the syslog listeners share with whoever consumes their frames. See docs/syslog.md. */
import type { Clock } from '../../core/clock.js';

export const SYSLOG_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SyslogTransport = (typeof SYSLOG_TRANSPORTS)[number];

/** One syslog message as framed off the wire, not parsed. */
export interface SyslogFrame {
  /** The frame decoded as UTF-8 (invalid bytes replaced by U+FFFD), without its framing. */
  readonly text: string;
  /** Sender address: `203.0.113.7:51234`, `[2001:db8::1]:51234`. */
  readonly peer: string;
  readonly transport: SyslogTransport;
  /** ISO 8601 UTC from the injected clock, when the bytes were read (one value per read). */
  readonly receivedAt: string;
  /** Present (true) when the frame was cut to `maxFrameBytes`. */
  readonly truncated?: true;
}

/**
 * Where frames go. Resolves once the frames are durable (spooled). May reject with a
 * `RateLimitedError` when full: nothing of the call was accepted and the same frames are offered
 * again after `retryAfterSeconds`. An `OperationalError` is retried with backoff; any other
 * rejection drops the batch (counted) and closes the connections whose frames it held.
 * Calls are serialised per listener, so frames of one connection arrive once and in order.
 */
export type SyslogSink = (frames: readonly SyslogFrame[]) => Promise<void>;

export interface SyslogTlsOptions {
  /** PEM private key and certificate chain of the listener. */
  readonly key: Buffer | string;
  readonly cert: Buffer | string;
  /** PEM CA certificate(s) that client certificates must chain to (mutual TLS). */
  readonly ca?: Buffer | string | ReadonlyArray<Buffer | string>;
  /** Ask clients for a certificate; with it, clients without a valid one are refused. */
  readonly requestCert?: boolean;
}

export interface SyslogServerOptions {
  /** Address to bind (an IP address; `0.0.0.0`, `::` or `127.0.0.1`). */
  readonly host: string;
  /** Ports to listen on; a missing port means that transport is off, 0 picks a free port. */
  readonly udpPort?: number;
  readonly tcpPort?: number;
  readonly tlsPort?: number;
  /** Required when `tlsPort` is set. */
  readonly tls?: SyslogTlsOptions;
  readonly sink: SyslogSink;
  /** Longest frame delivered (bytes); longer ones are cut. Default 65536. */
  readonly maxFrameBytes?: number;
  /** Octet counts above this close the connection. Default 16 × maxFrameBytes. */
  readonly maxOctetCount?: number;
  /** Open TCP + TLS connections at most; more are refused (closed at once). Default 1024. */
  readonly maxConnections?: number;
  /** A listener calls the sink when it holds maxFrames frames or its oldest waited maxDelayMs. */
  readonly batch?: { readonly maxFrames?: number; readonly maxDelayMs?: number };
  /** UDP frames queued while the sink is busy, at most; more are dropped. Default 8192 / 16 MiB. */
  readonly udpQueue?: { readonly maxFrames?: number; readonly maxBytes?: number };
  /** Bound on queued stream frames per listener before readers pause. Default 4 MiB. */
  readonly maxQueueBytes?: number;
  /**
   * Closes a TCP or TLS connection that sent nothing for this long (not while it waits for us).
   * Senders such as rsyslog reconnect by themselves. Default 0: never.
   */
  readonly idleTimeoutMs?: number;
  /** How long `close()` keeps offering queued frames to a refusing sink. Default 5000 ms. */
  readonly closeTimeoutMs?: number;
  readonly clock?: Clock;
  /** Told about sink failures, framing errors and socket errors; never throws into the listener. */
  readonly onError?: (error: unknown, context: SyslogErrorContext) => void;
}

export interface SyslogErrorContext {
  readonly transport: SyslogTransport;
  readonly peer?: string;
  readonly during: 'sink' | 'framing' | 'socket' | 'tls_handshake';
}

/** Counters of one listener since it started. */
export interface SyslogListenerStats {
  /** Frames taken off the wire and queued for the sink. */
  framesReceived: number;
  /** Frames the sink acknowledged (durable). */
  framesDelivered: number;
  /** Frames lost: UDP queue full, a sink failure, or still queued when close() gave up. */
  framesDropped: number;
  /** Frames cut to maxFrameBytes (delivered, marked `truncated`). */
  framesTruncated: number;
  /** Octet-counted frames cut off by the connection closing (not delivered). */
  partialFramesDiscarded: number;
  /** Streams closed for a bad octet count. */
  framingErrors: number;
  bytesReceived: number;
  sinkCalls: number;
  /** Sink calls repeated after a RateLimitedError or OperationalError. */
  sinkRetries: number;
  /** Times a connection stopped reading to wait for the sink. */
  pauses: number;
  /** Frames queued or in the sink right now. */
  queuedFrames: number;
  connectionsAccepted: number;
  connectionsOpen: number;
  /** Connections closed at once because maxConnections were open. */
  connectionsRefused: number;
  /** Connections closed for sending nothing for idleTimeoutMs. */
  connectionsIdleClosed: number;
  tlsHandshakeFailures: number;
}

export interface SyslogServer {
  /** The bound ports (useful with port 0). */
  addresses(): { udp?: number; tcp?: number; tls?: number };
  /** A snapshot of each enabled listener's counters. */
  stats(): Partial<Record<SyslogTransport, SyslogListenerStats>>;
  /**
   * Stop accepting, read nothing more, deliver what was already framed (partial lines included),
   * wait for the sink (up to closeTimeoutMs, then drop and count), close every socket. Idempotent.
   */
  close(): Promise<void>;
}
