/**
 * Sending log files to a Firebreak server: each file read as events (`openEventFile`), gathered into
 * batches, posted one batch in flight while the next is read, per-line refusals traced back to the
 * file's lines.
 */
import { basename } from 'node:path';
import { isFirebreakError } from '../../core/errors.js';
import type { FormatHint } from '../event-record.js';
import { openEventFile } from './event-file.js';
import type { EventsClient } from './events-client.js';
import type { FileFormat } from './detect-format.js';
import type { FileRecord, ReadPlan } from './file-record.js';

/** An event that did not get in: refused by the server, or unreadable in the file (never sent). */
export interface IngestLineError {
  readonly file: string;
  /** 1-based line in the file (text, JSON, CSV). */
  readonly line?: number;
  /** EVTX record number. */
  readonly record?: number;
  readonly error: string;
  /** `server`: sent and refused; `file`: could not be read as an event, not sent. */
  readonly by: 'server' | 'file';
}

export interface IngestProgress {
  readonly file: string;
  readonly events: number;
  readonly bytesRead: number;
  readonly size: number;
}

export interface IngestOptions {
  readonly format?: FileFormat;
  /** Source name sent with the events (default: each file's base name). */
  readonly source?: string;
  /** Events per request (default 5000; also capped by maxBatchBytes). */
  readonly batchSize?: number;
  /** Uncompressed bytes per request (default 4 MiB; the server takes 16 MiB). */
  readonly maxBatchBytes?: number;
  readonly onFile?: (file: string, plan: ReadPlan) => void;
  readonly onLineError?: (error: IngestLineError) => void;
  /** A file that could not be read at all, or stopped part way. */
  readonly onFileError?: (file: string, message: string) => void;
  readonly onProgress?: (progress: IngestProgress) => void;
  /** Current time in ms (injectable for tests). */
  readonly now?: () => number;
}

export interface IngestSummary {
  readonly files: number;
  /** Files that could not be opened or stopped part way through. */
  readonly filesFailed: number;
  /** Events sent to the server. */
  readonly sent: number;
  readonly accepted: number;
  /** Sent and refused by the server. */
  readonly rejected: number;
  /** Parts of files that could not be read as events (not sent). */
  readonly unreadable: number;
  readonly elapsedMs: number;
  /** Why ingestion stopped before the end (authentication refused, server unreachable, ...), if it did. */
  readonly stopped?: Error;
}

interface Entry {
  readonly payload: string;
  readonly line?: number;
  readonly record?: number;
}

interface Batch {
  readonly file: string;
  readonly body: 'ndjson' | 'text';
  readonly format: FormatHint;
  readonly source: string;
  readonly entries: Entry[];
}

/**
 * Reads each file and sends its events to the server. A file that cannot be read is reported and
 * skipped; a request the client cannot complete (401/403, retries spent, a redirect, an unexpected
 * status) stops the run (`stopped`).
 * Resolves with the counts; never rejects for what the server or the files did.
 */
export async function ingestFiles(
  paths: readonly string[],
  client: EventsClient,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  const now = options.now ?? (() => Date.now());
  const started = now();
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const maxBatchBytes = options.maxBatchBytes ?? 4 * 1024 * 1024;
  let files = 0;
  let filesFailed = 0;
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let unreadable = 0;
  let stopped: Error | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const lineError = (error: IngestLineError): void => {
    if (error.by === 'server') rejected++;
    else unreadable++;
    options.onLineError?.(error);
  };

  const refuse = (
    batch: Batch,
    entries: readonly Entry[],
    errors: readonly { line: number; error: string }[],
  ): void => {
    for (const e of errors) {
      const entry = entries[e.line - 1];
      lineError({
        file: batch.file,
        ...(entry?.line !== undefined ? { line: entry.line } : {}),
        ...(entry?.record !== undefined ? { record: entry.record } : {}),
        error: entry ? e.error : `${e.error} (body line ${e.line})`,
        by: 'server',
      });
    }
  };

  /** Posts entries; halves them on 413 until they fit (one event that never fits is refused). */
  const post = async (batch: Batch, entries: readonly Entry[]): Promise<void> => {
    const result = await client.postEvents({
      body: batch.body,
      lines: entries.map((e) => e.payload),
      format: batch.format,
      source: batch.source,
    });
    if (result.kind === 'too_large') {
      if (entries.length === 1) {
        sent++;
        const only = entries[0]!;
        lineError({
          file: batch.file,
          ...(only.line !== undefined ? { line: only.line } : {}),
          ...(only.record !== undefined ? { record: only.record } : {}),
          error: 'event larger than the server accepts (413)',
          by: 'server',
        });
        return;
      }
      const half = Math.ceil(entries.length / 2);
      await post(batch, entries.slice(0, half));
      await post(batch, entries.slice(half));
      return;
    }
    sent += entries.length;
    if (result.kind === 'accepted') {
      accepted += result.accepted;
      refuse(batch, entries, result.errors);
      // Lines the server neither kept nor named (should not happen) still count as refused.
      const unexplained = entries.length - result.accepted - result.errors.length;
      if (unexplained > 0) {
        rejected += unexplained;
        options.onFileError?.(batch.file, `${unexplained} events neither accepted nor refused by the server`);
      }
      return;
    }
    if (result.errors.length > 0) refuse(batch, entries, result.errors);
    const unnamed = entries.length - result.errors.length;
    if (unnamed > 0) {
      rejected += unnamed;
      options.onFileError?.(
        batch.file,
        `the server refused a batch of ${entries.length} events: ${result.message}`,
      );
    }
  };

  /** Waits for the request in flight, then starts this one (one in flight while the next is read). */
  const send = async (batch: Batch): Promise<void> => {
    await inFlight;
    if (stopped) throw stopped;
    inFlight = post(batch, batch.entries).catch((error: unknown) => {
      // Whatever the client could not handle (401/403, retries spent, a redirect, an unexpected
      // status) would happen to every later batch too: stop the run.
      stopped = error instanceof Error ? error : new Error(String(error));
    });
  };

  for (const path of paths) {
    if (stopped) break;
    files++;
    const problems: IngestLineError[] = [];
    let file;
    try {
      file = await openEventFile(path, {
        format: options.format,
        onProblem: (p) =>
          problems.push({
            file: path,
            ...(p.line !== undefined ? { line: p.line } : {}),
            ...(p.record !== undefined ? { record: p.record } : {}),
            error: p.message,
            by: 'file',
          }),
      });
    } catch (error) {
      filesFailed++;
      options.onFileError?.(path, error instanceof Error ? error.message : String(error));
      continue;
    }
    options.onFile?.(path, file.plan);
    const body = file.plan.layout === 'lines' ? 'text' : 'ndjson';
    const source = options.source ?? basename(path);
    let batch: Batch = { file: path, body, format: file.plan.format, source, entries: [] };
    let batchBytes = 0;
    let events = 0;
    const flushProblems = (): void => {
      for (const p of problems.splice(0)) lineError(p);
    };
    try {
      for await (const record of file) {
        const payload = payloadOf(record);
        const bytes = Buffer.byteLength(payload) + 1;
        if (
          batch.entries.length > 0 &&
          (batch.entries.length >= batchSize || batchBytes + bytes > maxBatchBytes)
        ) {
          await send(batch);
          flushProblems();
          options.onProgress?.({ file: path, events, bytesRead: file.bytesRead, size: file.size });
          batch = { ...batch, entries: [] };
          batchBytes = 0;
        }
        batch.entries.push({
          payload,
          ...(record.line !== undefined ? { line: record.line } : {}),
          ...(record.record !== undefined ? { record: record.record } : {}),
        });
        batchBytes += bytes;
        events++;
      }
      if (batch.entries.length > 0) await send(batch);
    } catch (error) {
      if (error === stopped) break;
      filesFailed++;
      options.onFileError?.(
        path,
        `${isFirebreakError(error) ? error.message : String((error as Error).message ?? error)} (stopped reading; events before it were sent)`,
      );
      if (batch.entries.length > 0 && !stopped) await send(batch).catch(() => undefined);
    } finally {
      flushProblems();
    }
    options.onProgress?.({ file: path, events, bytesRead: file.size, size: file.size });
  }
  await inFlight;
  return {
    files,
    filesFailed,
    sent,
    accepted,
    rejected,
    unreadable,
    elapsedMs: now() - started,
    ...(stopped ? { stopped } : {}),
  };
}

/** The line sent for a record: JSON as written in the file (else serialised), or the text line. */
function payloadOf(record: FileRecord): string {
  if (typeof record.raw === 'string') return record.raw;
  return record.text ?? JSON.stringify(record.raw);
}
