import { createReadStream } from 'node:fs';

/** One JSON document from an input file, with its 1-based position. */
export interface JsonRecord {
  readonly record: number;
  readonly value: unknown;
}

export interface ReadProgress {
  /** Bytes consumed so far (approximate: counted per chunk). */
  bytes: number;
}

/**
 * Streams the JSON documents of a file, whatever its layout: NDJSON (one document per line), a JSON array
 * of documents, or documents concatenated one after another, pretty-printed or not (as evtx dump tools
 * write them). NDJSON takes a fast path (split on newlines, `JSON.parse` per line); the other layouts a
 * scanner that tracks string and nesting state across chunks. A malformed document throws with its
 * record number.
 */
export async function* readJsonDocuments(path: string, progress?: ReadProgress): AsyncGenerator<JsonRecord> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let mode: 'unknown' | 'lines' | 'scan' = 'unknown';
  let buffer = '';
  let record = 0;
  // Scanner state (kept between chunks).
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let arrayMode = false;
  let scanPos = 0;
  let first = true;

  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new Error(`${path}: record ${record}: invalid JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
  };

  /** Scans `buffer` from `scanPos`, yielding complete documents and keeping the unfinished one. */
  function* scan(): Generator<JsonRecord> {
    const text = buffer;
    let i = scanPos;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92 /* \ */) escaped = true;
        else if (c === 34 /* " */) inString = false;
        continue;
      }
      if (c === 34) {
        inString = true;
      } else if (c === 123 /* { */ || c === 91 /* [ */) {
        if (depth === 0 && c === 91 && record === 0 && start < 0 && !arrayMode) {
          arrayMode = true;
          depth = 1;
          continue;
        }
        if (start < 0 && depth === (arrayMode ? 1 : 0)) start = i;
        depth++;
      } else if (c === 125 /* } */ || c === 93 /* ] */) {
        depth--;
        if (arrayMode && depth === 0) {
          arrayMode = false; // end of the top-level array
          continue;
        }
        if (start >= 0 && depth === (arrayMode ? 1 : 0)) {
          record++;
          const value = parse(text.slice(start, i + 1));
          start = -1;
          yield { record, value };
        }
      }
    }
    // Keep only the unfinished document.
    if (start >= 0) {
      buffer = text.slice(start);
      scanPos = i - start;
      start = 0;
    } else {
      buffer = '';
      scanPos = 0;
    }
  }

  for await (const chunk of stream as AsyncIterable<string>) {
    if (progress) progress.bytes += Buffer.byteLength(chunk);
    buffer += chunk;
    if (first) {
      if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
      first = false;
    }
    if (mode === 'unknown') {
      const trimmed = buffer.trimStart();
      if (trimmed === '') {
        buffer = '';
        continue;
      }
      const newline = buffer.indexOf('\n');
      if (trimmed[0] === '[') {
        mode = 'scan';
      } else if (newline < 0) {
        continue; // need a full first line to decide
      } else {
        const firstLine = buffer.slice(0, newline).trim();
        let ok = false;
        if (firstLine.startsWith('{') && firstLine.endsWith('}')) {
          try {
            JSON.parse(firstLine);
            ok = true;
          } catch {
            ok = false;
          }
        }
        mode = ok ? 'lines' : 'scan';
      }
    }
    if (mode === 'lines') {
      let from = 0;
      for (;;) {
        const nl = buffer.indexOf('\n', from);
        if (nl < 0) break;
        const line = buffer.slice(from, nl);
        from = nl + 1;
        if (line.length === 0 || line.trim() === '') continue;
        record++;
        yield { record, value: parse(line) };
      }
      buffer = buffer.slice(from);
      continue;
    }
    yield* scan();
  }
  if (mode === 'unknown' && buffer.trim() !== '') {
    mode = 'scan';
    yield* scan();
  }
  if (mode === 'lines' && buffer.trim() !== '') {
    record++;
    yield { record, value: parse(buffer) };
  } else if (mode === 'scan' && start >= 0 && buffer.trim() !== '') {
    throw new Error(`${path}: record ${record + 1}: truncated JSON document at end of file`);
  }
}
