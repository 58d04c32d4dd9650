import type { FormatHint } from '../event-record.js';

/** How a file's bytes are split into events. */
export const FILE_LAYOUTS = ['evtx', 'json', 'csv', 'lines'] as const;
export type FileLayout = (typeof FILE_LAYOUTS)[number];

/** How one file will be read, and the format hint its events are sent with. */
export interface ReadPlan {
  readonly layout: FileLayout;
  readonly format: FormatHint;
  /** Whether the bytes are gzip-compressed (decompressed transparently). */
  readonly gzip: boolean;
  /** Why this plan was chosen (`extension .csv`, `content: syslog lines`, `--format`), for messages. */
  readonly reason: string;
}

/**
 * One event read from a file. `raw` is a text line (layout `lines`) or a JSON object (every other
 * layout), as `ReceivedEvent.raw` takes it.
 */
export interface FileRecord {
  readonly format: FormatHint;
  readonly raw: string | Record<string, unknown>;
  /** 1-based line where the event starts (text, NDJSON, concatenated JSON, CSV). */
  readonly line?: number;
  /** The EVTX record number, for .evtx files (they have no lines). */
  readonly record?: number;
  /**
   * For JSON documents: the document exactly as written in the file, on one line. Senders use it
   * instead of re-serialising `raw`, which would round integers beyond 2^53 and lose nothing else.
   */
  readonly text?: string;
}

/** Something in a file that could not become an event; reading goes on after it. */
export interface FileProblem {
  readonly line?: number;
  readonly record?: number;
  readonly message: string;
}
