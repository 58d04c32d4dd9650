/**
 * Reading one log file as events, streamed in constant memory: text lines, JSON (NDJSON, arrays,
 * concatenated documents), CSV with a header, and EVTX; gzip-compressed or not.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { OperationalError, UserError } from '../../core/errors.js';
import { parseJsonDocuments } from '../../hunt/json-reader.js';
import { decodeEvtxStream } from '../evtx/index.js';
import { hasGzipMagic } from '../gzip.js';
import { planRead, SNIFF_BYTES, type FileFormat } from './detect-format.js';
import { wrappedRecords } from './record-wrappers.js';
import type { FileProblem, FileRecord, ReadPlan } from './file-record.js';
import { decodeUtf8, splitLines } from './text-lines.js';

export interface EventFileOptions {
  /** Overrides detection (`--format`). */
  readonly format?: FileFormat;
  /** Called for each part of the file that cannot become an event; reading goes on. */
  readonly onProblem?: (problem: FileProblem) => void;
  /** Longest text line or CSV record kept, in characters (default 4 Mi); longer ones are reported and skipped. */
  readonly maxRecordChars?: number;
}

/** Header names made usable as keys: blank ones become `column_N`, repeated ones `name_2`, `name_3`. */
function uniqueColumnNames(header: readonly string[]): string[] {
  const seen = new Set<string>();
  return header.map((raw, i) => {
    const base = raw.trim() === '' ? `column_${i + 1}` : raw;
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base}_${n}`;
    seen.add(name);
    return name;
  });
}

const DEFAULT_MAX_RECORD_CHARS = 4 * 1024 * 1024;
const READ_CHUNK = 1 << 20;

/** Up to `limit` bytes from the start of `path`, decompressed when gzip. */
async function readHead(
  path: string,
  limit: number,
): Promise<{ head: Uint8Array; gzip: boolean; complete: boolean }> {
  const handle = await open(path, 'r');
  let raw: Uint8Array;
  try {
    const buffer = Buffer.alloc(limit);
    const { bytesRead } = await handle.read(buffer, 0, limit, 0);
    raw = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (!hasGzipMagic(raw)) return { head: raw, gzip: false, complete: raw.length < limit };
  // Decompress only the beginning: stop the stream once `limit` bytes came out.
  const pieces: Buffer[] = [];
  let total = 0;
  let complete = true;
  const source = createReadStream(path, { highWaterMark: 64 * 1024 });
  const gunzip = createGunzip();
  source.pipe(gunzip);
  try {
    for await (const piece of gunzip as AsyncIterable<Buffer>) {
      pieces.push(piece);
      total += piece.length;
      if (total >= limit) {
        complete = false;
        break;
      }
    }
  } catch (error) {
    throw new UserError(
      'ingest_bad_gzip',
      `${path}: not readable as gzip (${(error as Error).message})`,
      {
        file: path,
      },
      { cause: error },
    );
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  return { head: Buffer.concat(pieces).subarray(0, limit), gzip: true, complete };
}

/**
 * Opens a log file for reading as events: checks it is a regular file, looks at its first bytes and
 * decides how to read it (`planRead`). Rejects with UserError `ingest_file_unreadable` (missing,
 * no permission), `ingest_not_a_file` (a directory, pipe or device), `ingest_bad_gzip` or
 * `ingest_binary_file`.
 */
export async function openEventFile(path: string, options: EventFileOptions = {}): Promise<EventFile> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile())
      throw new UserError('ingest_not_a_file', `${path}: not a regular file`, { file: path });
    size = info.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      'ingest_file_unreadable',
      `${path}: ${(error as Error).message}`,
      { file: path },
      {
        cause: error,
      },
    );
  }
  const { head, gzip, complete } = await readHead(path, SNIFF_BYTES);
  const plan = planRead(path, head, { gzip, complete, format: options.format });
  return new EventFile(path, size, plan, options);
}

/** A log file being read as events. Iterate it once; `bytesRead` and `size` give progress. */
export class EventFile implements AsyncIterable<FileRecord> {
  private file: ReadStream | undefined;

  constructor(
    readonly path: string,
    /** Size on disk (compressed, for gzip files). */
    readonly size: number,
    readonly plan: ReadPlan,
    private readonly options: EventFileOptions,
  ) {}

  /** Bytes read from disk so far (compressed bytes for gzip files). */
  get bytesRead(): number {
    return this.file?.bytesRead ?? 0;
  }

  /**
   * Yields the file's events in order. Problems inside the file go to `onProblem`; rejects only when
   * the file cannot be read (OperationalError `ingest_read_failed`), its gzip data is corrupt, or a
   * JSON layout other than NDJSON is malformed (the reader cannot find the next document after it).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<FileRecord> {
    const bytes = this.openBytes();
    try {
      switch (this.plan.layout) {
        case 'lines':
          yield* this.lines(bytes);
          break;
        case 'json':
          yield* this.json(bytes);
          break;
        case 'csv':
          yield* this.csv(bytes);
          break;
        case 'evtx':
          yield* this.evtx(bytes);
          break;
      }
    } catch (error) {
      if (error instanceof UserError || error instanceof OperationalError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
        throw new UserError(
          'ingest_bad_gzip',
          `${this.path}: corrupt gzip data (${(error as Error).message})`,
          {
            file: this.path,
          },
          { cause: error },
        );
      if (code !== undefined)
        throw new OperationalError(
          'ingest_read_failed',
          `${this.path}: ${(error as Error).message}`,
          {
            file: this.path,
          },
          { cause: error },
        );
      throw error;
    } finally {
      bytes.destroy();
    }
  }

  private problem(problem: FileProblem): void {
    this.options.onProblem?.(problem);
  }

  /** The file's bytes, decompressed when gzip, in pieces of up to 1 MiB. */
  private openBytes(): Readable {
    const file = createReadStream(this.path, { highWaterMark: READ_CHUNK });
    this.file = file;
    if (!this.plan.gzip) return file;
    const out = new PassThrough({ highWaterMark: READ_CHUNK });
    pipeline(file, createGunzip({ chunkSize: 256 * 1024 }), out, () => undefined);
    return out;
  }

  private get maxChars(): number {
    return this.options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  private async *lines(bytes: Readable): AsyncGenerator<FileRecord> {
    const format = this.plan.format;
    const max = this.maxChars;
    const lines = splitLines(decodeUtf8(bytes), max, (line) =>
      this.problem({ line, message: `line longer than ${max} characters, skipped` }),
    );
    for await (const { line, text } of lines) yield { format, raw: text, line };
  }

  private async *json(bytes: Readable): AsyncGenerator<FileRecord> {
    const format = this.plan.format;
    const documents = parseJsonDocuments(bytes, this.path, {
      onMalformedLine: (line, message) => this.problem({ line, message }),
    });
    for await (const { line, value, text } of documents) {
      const items = wrappedRecords(value);
      if (items !== null) {
        // CloudTrail and Azure wrapper documents: each item an event (see record-wrappers.ts)
        for (const item of items) {
          if (item === null || typeof item !== 'object' || Array.isArray(item))
            this.problem({ line, message: 'not a JSON object (an item of a records array)' });
          else yield { format, raw: item as Record<string, unknown>, line, text: JSON.stringify(item) };
        }
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        this.problem({ line, message: 'not a JSON object' });
        continue;
      }
      // A document that parsed has line breaks only between tokens, so they can become spaces.
      const oneLine = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
      yield { format, raw: value as Record<string, unknown>, line, text: oneLine };
    }
  }

  private async *csv(bytes: Readable): AsyncGenerator<FileRecord> {
    const format = this.plan.format;
    const max = this.maxChars;
    // Line numbers come from each record's raw text (csv-parse's own counter counts a CRLF inside a
    // quoted field twice). Tracked at parse time (on_record, on_skip), which runs ahead of this loop.
    let breaks = 0; // line breaks before the next record
    let stopped = false;
    const place = (raw: string | undefined): number => {
      // csv-parse's raw text holds a CRLF record break as its CR only, but an embedded CRLF whole:
      // a break is a LF, or a CR not followed by LF.
      const text = raw ?? '';
      let at = 0;
      let leading = 0;
      while (at < text.length) {
        const c = text.charCodeAt(at);
        if (c === 13) at += text.charCodeAt(at + 1) === 10 ? 2 : 1;
        else if (c === 10) at += 1;
        else break;
        leading++;
      }
      const line = breaks + leading + 1;
      for (let k = 0; k < text.length; k++) {
        const c = text.charCodeAt(k);
        if (c === 10 || (c === 13 && text.charCodeAt(k + 1) !== 10)) breaks++;
      }
      return line;
    };
    const parser = parseCsv({
      bom: true,
      columns: (header: string[]) => {
        breaks = parser.info.lines;
        return uniqueColumnNames(header);
      },
      raw: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: max,
      // With `raw`, each record arrives as { record, raw }.
      on_record: (value: { record: Record<string, string>; raw: string }) => ({
        line: place(value.raw),
        record: value.record,
      }),
      on_skip: (error, raw) => {
        if (stopped) return;
        const line = place(raw);
        if (error?.code === 'CSV_MAX_RECORD_SIZE') {
          // The parser cannot find the next record after this (often an unclosed quote): stop
          // reading, keeping the records already parsed.
          stopped = true;
          this.problem({
            line,
            message: `CSV record longer than ${max} characters (an unclosed quote?); the rest of the file was not read`,
          });
          setImmediate(() => {
            bytes.unpipe(parser);
            bytes.destroy();
            parser.end();
          });
          return;
        }
        this.problem({ line, message: error ? error.message : 'unreadable CSV record' });
      },
    });
    bytes.on('error', (error) => parser.destroy(error));
    bytes.pipe(parser);
    for await (const item of parser as AsyncIterable<{ line: number; record: Record<string, string> }>) {
      yield { format, raw: item.record, line: item.line };
    }
  }

  private async *evtx(bytes: Readable): AsyncGenerator<FileRecord> {
    const format = this.plan.format;
    const records = decodeEvtxStream(bytes as AsyncIterable<Uint8Array>, {
      onProblem: (p) =>
        this.problem({
          ...(p.recordId !== undefined ? { record: p.recordId } : {}),
          message: `${p.code}${p.detail ? ` (${p.detail})` : ''} at byte ${p.offset}: ${p.message}`,
        }),
    });
    for await (const r of records) yield { format, raw: r.event, record: r.recordId };
  }
}
