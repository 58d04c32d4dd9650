import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { uuidv7Floor } from '../core/ids.js';
import type { ReceivedEvent } from '../ingest/event-record.js';
import { InlineBatchProcessor, WorkerBatchProcessor } from '../ingest/batch-processor.js';
import { IngestPipeline, type DetectionStage } from '../ingest/pipeline.js';
import { RuleDetectionStage } from '../ingest/rule-detection-stage.js';
import { openFileSpool, spoolIntake, type Spool } from '../ingest/spool/index.js';
import { ledgerFor } from '../ingest/submission-ledger.js';
import { startSyslogServer, type SyslogServer } from '../ingest/syslog/index.js';
import type { ServiceContext } from '../services/context.js';
import { ensureDefaultOrganization } from '../services/identity.js';
import { deleteEventsBefore, deleteSubmissionsBefore } from '../storage/event-repository.js';
import { findOrganizationBySlug } from '../storage/identity-repository.js';
import type { Config } from './config.js';

export interface Ingestion {
  readonly spool: Spool;
  readonly pipeline: IngestPipeline;
  readonly syslog: SyslogServer | null;
  /** `tcp 5514, udp 5514` or null: where syslog listens, for the start-up line. */
  readonly syslogPorts: string | null;
  /** The context services use, now with the spool as its intake. */
  readonly context: ServiceContext;
  /** Deletes events older than the retention period; returns how many went. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}

export interface IngestionOptions {
  readonly detection?: DetectionStage | undefined;
  readonly log: {
    warn(details: object, message: string): void;
  };
}

/** Rows deleted per retention transaction, so the purge never holds the writer long. */
const PURGE_CHUNK = 5000;

async function syslogOrgId(context: ServiceContext, config: Config): Promise<string> {
  if (!config.syslogOrg) return (await ensureDefaultOrganization(context)).id;
  const org = await findOrganizationBySlug(context.database.db, config.syslogOrg);
  if (!org)
    throw new Error(`syslogOrg (FIREBREAK_SYSLOG_ORG): no organisation with slug ${config.syslogOrg}`);
  return org.id;
}

/**
 * Starts the event path of one server process: the durable spool under DATA_DIR/spool, the pipeline
 * that normalises, stores and detects, the syslog listeners, and the retention purge.
 */
export async function startIngestion(
  base: ServiceContext,
  config: Config,
  options: IngestionOptions,
): Promise<Ingestion> {
  const spool = await openFileSpool({
    directory: path.join(config.dataDir, 'spool'),
    backlogLimitBytes: config.spoolMaxBytes,
  });
  const pipelineContext: ServiceContext = { ...base, intake: spoolIntake(spool) };
  // Parsing and detection run in a worker thread beside this one (sockets, spool, database), unless
  // configured off (FIREBREAK_INGEST_WORKER=off): then on this thread.
  const processor = config.ingestWorker ? new WorkerBatchProcessor() : new InlineBatchProcessor();
  const pipeline = new IngestPipeline(pipelineContext, spool, {
    processor,
    detection: options.detection ?? new RuleDetectionStage(pipelineContext),
    onError: (error) =>
      options.log.warn({ err: error }, 'event pipeline failed; retrying from its checkpoint'),
  });
  pipeline.start();
  const context: ServiceContext = {
    ...pipelineContext,
    submissions: ledgerFor(base.database.db, spool, pipeline),
  };

  let syslog: SyslogServer | null = null;
  if (config.syslogPort > 0 || config.syslogTlsPort !== undefined) {
    const orgId = await syslogOrgId(context, config);
    const tls =
      config.syslogTlsPort !== undefined && config.syslogTlsKey && config.syslogTlsCert
        ? {
            key: await readFile(config.syslogTlsKey),
            cert: await readFile(config.syslogTlsCert),
            // With a CA file, senders must present a certificate it signed (mutual TLS).
            ...(config.syslogTlsCa ? { ca: await readFile(config.syslogTlsCa), requestCert: true } : {}),
          }
        : undefined;
    syslog = await startSyslogServer({
      host: config.syslogHost ?? config.host,
      ...(config.syslogPort > 0 ? { udpPort: config.syslogPort, tcpPort: config.syslogPort } : {}),
      ...(tls ? { tlsPort: config.syslogTlsPort, tls } : {}),
      clock: context.clock,
      idleTimeoutMs: config.syslogIdleSeconds * 1000,
      // Each sink call is one spool append (one fsync, shared with concurrent appends): large
      // batches keep a single busy connection from waiting on the disk once per 512 lines.
      batch: { maxFrames: 4096, maxDelayMs: 5 },
      sink: async (frames) => {
        const events: ReceivedEvent[] = frames.map((frame) => ({
          id: context.newId(),
          orgId,
          receivedAt: frame.receivedAt,
          source: { kind: 'syslog', name: frame.transport, peer: frame.peer },
          format: 'syslog',
          raw: frame.text,
        }));
        await spool.append(events);
      },
      onError: (error, where) =>
        options.log.warn(
          { err: error, transport: where.transport, during: where.during },
          'syslog listener problem',
        ),
    });
  }

  const purgeExpired = async (): Promise<number> => {
    const cutoffMs = context.clock.now().getTime() - config.eventRetentionDays * 86_400_000;
    // Idempotency keys are kept as long as the events they stand for.
    await context.database.write((tx) => deleteSubmissionsBefore(tx, new Date(cutoffMs).toISOString()));
    const cutoff = uuidv7Floor(cutoffMs);
    let total = 0;
    for (;;) {
      const deleted = await context.database.write((tx) => deleteEventsBefore(tx, cutoff, PURGE_CHUNK));
      total += deleted;
      if (deleted < PURGE_CHUNK) return total;
    }
  };
  const purge = setInterval(() => {
    purgeExpired().catch((error: unknown) => options.log.warn({ err: error }, 'could not purge old events'));
  }, 3_600_000);
  purge.unref();

  const ports = syslog?.addresses();
  const syslogPorts = ports
    ? (['tcp', 'udp', 'tls'] as const)
        .filter((transport) => ports[transport] !== undefined)
        .map((transport) => `${transport} ${ports[transport]}`)
        .join(', ')
    : null;
  return {
    spool,
    pipeline,
    syslog,
    syslogPorts,
    context,
    purgeExpired,
    close: async () => {
      clearInterval(purge);
      // Stop taking events first, then let the pipeline finish the batch in hand.
      await syslog?.close();
      await pipeline.stop();
      await processor.close();
      await spool.close();
    },
  };
}
