/**
 * Splits a posted batch of events into documents or text lines, keeping the position of each so
 * errors name the line. Pure: the HTTP route has already undone any gzip.
 */

import { wrappedRecords } from './files/record-wrappers.js';

/** A single line or document larger than this is refused (the rest of the batch is kept). */
export const MAX_EVENT_BYTES = 1024 * 1024;

export type BatchKind = 'ndjson' | 'json' | 'text';

export interface BatchItem {
  /** 1-based line (NDJSON, text) or array position (JSON array, or the array of a records wrapper). */
  readonly line: number;
  readonly raw: string | Record<string, unknown>;
}

export interface BatchError {
  readonly line: number;
  readonly error: string;
}

export interface DecodedBatch {
  readonly items: BatchItem[];
  readonly errors: BatchError[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Calls `each(line, start, end)` for every line; CR before LF is dropped, blank lines skipped. */
function forEachLine(body: Buffer, each: (line: number, start: number, end: number) => void): void {
  let line = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    line += 1;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop -= 1;
    if (stop > start) each(line, start, stop);
    start = end + 1;
  }
}

function ndjson(body: Buffer): DecodedBatch {
  const items: BatchItem[] = [];
  const errors: BatchError[] = [];
  forEachLine(body, (line, start, end) => {
    if (end - start > MAX_EVENT_BYTES) {
      errors.push({ line, error: `longer than ${MAX_EVENT_BYTES} bytes` });
      return;
    }
    let text: string;
    try {
      text = strictUtf8.decode(body.subarray(start, end));
    } catch {
      errors.push({ line, error: 'not valid UTF-8' });
      return;
    }
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      errors.push({ line, error: `invalid JSON: ${(error as Error).message}` });
      return;
    }
    if (!isObject(value)) errors.push({ line, error: 'expected a JSON object' });
    else items.push({ line, raw: value });
  });
  return { items, errors };
}

function jsonArray(body: Buffer): DecodedBatch {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(body));
  } catch (error) {
    const why = error instanceof SyntaxError ? `invalid JSON: ${error.message}` : 'not valid UTF-8';
    return { items: [], errors: [{ line: 1, error: why }] };
  }
  // a CloudTrail or Azure document posted as it is stored: its records (see record-wrappers.ts)
  const documents = Array.isArray(value) ? value : (wrappedRecords(value) ?? [value]);
  const items: BatchItem[] = [];
  const errors: BatchError[] = [];
  documents.forEach((doc, index) => {
    if (isObject(doc)) items.push({ line: index + 1, raw: doc });
    else errors.push({ line: index + 1, error: 'expected a JSON object' });
  });
  return { items, errors };
}

/** Text lines are kept even with invalid UTF-8 (syslog senders do send Latin-1): bad bytes become U+FFFD. */
function textLines(body: Buffer): DecodedBatch {
  const items: BatchItem[] = [];
  const errors: BatchError[] = [];
  forEachLine(body, (line, start, end) => {
    if (end - start > MAX_EVENT_BYTES) {
      errors.push({ line, error: `longer than ${MAX_EVENT_BYTES} bytes` });
      return;
    }
    const text = lenientUtf8.decode(body.subarray(start, end));
    if (text.trim() !== '') items.push({ line, raw: text });
  });
  return { items, errors };
}

export function decodeBatch(kind: BatchKind, body: Buffer): DecodedBatch {
  switch (kind) {
    case 'ndjson':
      return ndjson(body);
    case 'json':
      return jsonArray(body);
    case 'text':
      return textLines(body);
  }
}

/** The batch kind a media type asks for, or null when it is not one Firebreak takes. */
export function batchKindOf(contentType: string | undefined): BatchKind | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case 'application/x-ndjson':
    case 'application/ndjson':
    case 'application/jsonl':
    case 'application/jsonlines':
    case 'application/x-jsonlines':
      return 'ndjson';
    case 'application/json':
      return 'json';
    case 'text/plain':
      return 'text';
    default:
      return null;
  }
}
