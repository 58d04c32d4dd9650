import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SyslogListenerStats, SyslogTransport } from '../ingest/syslog/index.js';
import type { Ingestion } from './ingestion.js';

/**
 * Operational metrics in the Prometheus text format (`GET /metrics`): the process (CPU, memory, event
 * loop delay, GC), the spool, the pipeline, the syslog listeners and what detection dropped to stay
 * bounded. Every value is read from the components' own counters when Prometheus scrapes; nothing is
 * counted twice. Process-wide: no organisation's data, only volumes.
 */
export interface Metrics {
  readonly contentType: string;
  render(): Promise<string>;
}

const TRANSPORTS: readonly SyslogTransport[] = ['udp', 'tcp', 'tls'];

/** A counter whose value is a running total kept elsewhere, read at each scrape. */
function totalOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gaugeOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function createMetrics(ingestion: Ingestion): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'firebreak_' });
  const spool = () => ingestion.spool.stats();
  const pipeline = () => ingestion.pipeline.stats();

  totalOf(
    registry,
    'firebreak_spool_appended_events_total',
    'Events made durable in the spool',
    () => spool().appendedRecords,
  );
  totalOf(
    registry,
    'firebreak_spool_rejected_appends_total',
    'Appends refused because the spool was full (429 / TCP paused)',
    () => spool().rejectedCalls,
  );
  totalOf(
    registry,
    'firebreak_spool_failed_appends_total',
    'Appends that failed on a disk error',
    () => spool().failedCalls,
  );
  totalOf(registry, 'firebreak_spool_fsyncs_total', 'fsync calls of the spool', () => spool().fsyncs);
  totalOf(
    registry,
    'firebreak_spool_corrupt_records_total',
    'Damaged spool records skipped',
    () => spool().corruptRecords,
  );
  gaugeOf(
    registry,
    'firebreak_spool_backlog_bytes',
    'Spooled bytes not yet processed',
    () => spool().backlogBytes,
  );
  gaugeOf(
    registry,
    'firebreak_spool_backlog_limit_bytes',
    'Backlog at which senders are told to wait',
    () => spool().backlogLimitBytes,
  );
  gaugeOf(registry, 'firebreak_spool_full', '1 while appends are refused', () => (spool().full ? 1 : 0));
  gaugeOf(registry, 'firebreak_pipeline_lag_events', 'Durable events the pipeline has not yet stored', () =>
    Math.max(0, spool().lastPosition - pipeline().position),
  );
  totalOf(
    registry,
    'firebreak_pipeline_events_total',
    'Events stored and run through detection',
    () => pipeline().processed,
  );
  totalOf(
    registry,
    'firebreak_pipeline_batches_total',
    'Batches committed by the pipeline',
    () => pipeline().batches,
  );
  totalOf(
    registry,
    'firebreak_pipeline_failures_total',
    'Batches that failed and were retried from the checkpoint',
    () => pipeline().failures,
  );

  new Counter({
    name: 'firebreak_detection_dropped_total',
    help: 'What detection dropped to keep its state bounded (kind: late_event, correlation_group, correlation_event, anomaly_entity)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const d = pipeline().detectionDrops;
      this.reset();
      this.inc({ kind: 'late_event' }, d.lateEvents);
      this.inc({ kind: 'correlation_group' }, d.correlationGroupsEvicted);
      this.inc({ kind: 'correlation_event' }, d.correlationEventsDropped);
      this.inc({ kind: 'anomaly_entity' }, d.anomalyEntitiesEvicted);
    },
  });

  const syslog = (
    name: string,
    help: string,
    read: (stats: SyslogListenerStats) => number,
    type: 'counter' | 'gauge' = 'counter',
  ): void => {
    const collect = function (this: Counter<'transport'> | Gauge<'transport'>): void {
      const all = ingestion.syslog?.stats();
      this.reset();
      for (const transport of TRANSPORTS) {
        const stats = all?.[transport];
        if (!stats) continue;
        if (this instanceof Counter) this.inc({ transport }, read(stats));
        else this.set({ transport }, read(stats));
      }
    };
    if (type === 'counter')
      new Counter({ name, help, labelNames: ['transport'], registers: [registry], collect });
    else new Gauge({ name, help, labelNames: ['transport'], registers: [registry], collect });
  };
  syslog('firebreak_syslog_frames_received_total', 'Syslog messages received', (s) => s.framesReceived);
  syslog('firebreak_syslog_frames_delivered_total', 'Syslog messages made durable', (s) => s.framesDelivered);
  syslog(
    'firebreak_syslog_frames_dropped_total',
    'Syslog messages dropped (UDP queue full, sink gave up)',
    (s) => s.framesDropped,
  );
  syslog(
    'firebreak_syslog_frames_truncated_total',
    'Syslog messages cut to the frame limit',
    (s) => s.framesTruncated,
  );
  syslog(
    'firebreak_syslog_connections_refused_total',
    'Connections refused at the connection limit',
    (s) => s.connectionsRefused,
  );
  syslog(
    'firebreak_syslog_connections_idle_closed_total',
    'Connections closed for idleness',
    (s) => s.connectionsIdleClosed,
  );
  syslog(
    'firebreak_syslog_tls_handshake_failures_total',
    'Failed TLS handshakes',
    (s) => s.tlsHandshakeFailures,
  );
  syslog('firebreak_syslog_connections_open', 'Open connections', (s) => s.connectionsOpen, 'gauge');

  return { contentType: registry.contentType, render: () => registry.metrics() };
}
