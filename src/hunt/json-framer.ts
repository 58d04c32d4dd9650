import { open } from 'node:fs/promises';
import { gunzipFile, isGzipFile, isZlibError } from '../ingest/gzip.js';

/** The complete documents of one piece of an input file, as byte ranges of `bytes`. */
export interface DocumentFrames {
  /** Holds the documents: a buffer of its own (never a slice of Node's pool), so it can be transferred. */
  readonly bytes: Buffer;
  /** Byte offsets in `bytes` where each document starts and ends (exclusive). */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1-based line of the input where each document starts. */
  readonly lines: Int32Array;
  readonly count: number;
  /** Record number (1-based) of the first document. */
  readonly firstRecord: number;
  /** True when the input is NDJSON: each document is a line, and a malformed one spoils only itself. */
  readonly ndjson: boolean;
  /** Bytes of the file read so far (compressed bytes for a gzip file), for progress. */
  readonly bytesRead: number;
}

const CHUNK = 1 << 20;

/** ASCII whitespace as `String.prototype.trim` sees it. */
const isAsciiSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** True when bytes [from, end) hold only whitespace (decoding only when a byte is not ASCII). */
function isBlank(bytes: Buffer, from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const c = bytes[i]!;
    if (isAsciiSpace(c)) continue;
    if (c < 0x80) return false;
    return bytes.toString('utf8', i, end).trim() === '';
  }
  return true;
}

/** Collects document ranges for one buffer; grows as needed. */
class Ranges {
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  lines = new Int32Array(1024);
  count = 0;

  add(start: number, end: number, line: number): void {
    if (this.count === this.starts.length) {
      const grow = (from: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const to = new Int32Array(this.count * 2);
        to.set(from);
        return to;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.lines = grow(this.lines);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.lines[this.count] = line;
    this.count++;
  }
}

/** Fills `into` from `offset` with at most `length` bytes of the input; resolves 0 at its end. */
type Fill = (into: Buffer, offset: number, length: number) => Promise<number>;

const newBuffer = (size: number): Buffer => Buffer.allocUnsafeSlow(size);

/**
 * Cuts a JSON input file into its documents without parsing them (see `frameJson`), reading straight
 * into the buffers it yields.
 */
export async function* frameJsonFile(
  path: string,
  name: string = path,
  chunkSize: number = CHUNK,
  allocate: (size: number) => Buffer = newBuffer,
): AsyncGenerator<DocumentFrames> {
  const handle = await open(path, 'r');
  try {
    const fill: Fill = async (into, offset, length) =>
      (await handle.read(into, offset, length, null)).bytesRead;
    yield* frameJson(fill, name, chunkSize, allocate);
  } finally {
    await handle.close();
  }
}

/**
 * Cuts a JSON input file into its documents (see `frameJson`): read directly, or through gunzip when it
 * is gzip-compressed (collected logs are often kept so). `bytesRead` counts the file's bytes, compressed
 * or not, so that progress compares with its size.
 */
export async function* frameJsonPath(
  path: string,
  chunkSize: number = CHUNK,
  allocate: (size: number) => Buffer = newBuffer,
): AsyncGenerator<DocumentFrames> {
  if (!(await isGzipFile(path))) {
    yield* frameJsonFile(path, path, chunkSize, allocate);
    return;
  }
  const gunzipped = gunzipFile(path);
  try {
    for await (const f of frameJsonStream(gunzipped.stream, path, chunkSize, allocate))
      yield { ...f, bytesRead: gunzipped.compressedBytes() };
  } catch (error) {
    // zlib's messages ("incorrect header check") do not say which file
    if (isZlibError(error))
      throw new Error(`${path}: not a readable gzip file (${(error as Error).message})`, { cause: error });
    throw error;
  } finally {
    gunzipped.destroy();
  }
}

/**
 * Cuts JSON arriving as byte pieces (a file stream, a gunzip stream) into its documents, as
 * `frameJsonFile` does; the pieces are copied into the yielded buffers.
 */
export async function* frameJsonStream(
  pieces: AsyncIterable<Uint8Array>,
  name: string,
  chunkSize: number = CHUNK,
  allocate: (size: number) => Buffer = newBuffer,
): AsyncGenerator<DocumentFrames> {
  const source = pieces[Symbol.asyncIterator]();
  let piece: Uint8Array = new Uint8Array(0);
  let at = 0;
  const fill: Fill = async (into, offset, length) => {
    while (at === piece.length) {
      const next = await source.next();
      if (next.done === true) return 0;
      piece = next.value;
      at = 0;
    }
    const n = Math.min(length, piece.length - at);
    into.set(piece.subarray(at, at + n), offset);
    at += n;
    return n;
  };
  try {
    yield* frameJson(fill, name, chunkSize, allocate);
  } finally {
    await source.return?.();
  }
}

/**
 * Cuts JSON input into its documents without parsing them, whatever its layout: NDJSON (one document per
 * line, blank lines skipped), a JSON array of documents, or documents concatenated one after another,
 * pretty-printed or not (as evtx dump tools write them); a leading byte order mark is skipped. Yields them
 * as byte ranges, numbered from 1 with the line each starts on, over buffers of about `chunkSize` bytes
 * that end on a document boundary (a longer document gets a buffer of its own). A hunt on worker threads
 * hands each buffer to a worker whole, so only the framing runs on the reading thread; `allocate` gives
 * buffers of at least the size asked (each of its own, from offset 0), so that a caller can recycle them.
 * Works on bytes: every character the framing looks at is ASCII, and no byte of a multi-byte UTF-8
 * sequence is. A document left open at the end throws, after the documents before it.
 */
async function* frameJson(
  fill: Fill,
  name: string,
  chunkSize: number,
  allocate: (size: number) => Buffer,
): AsyncGenerator<DocumentFrames> {
  let buf = allocate(chunkSize);
  let filled = 0; // valid bytes in buf
  let consumed = 0; // bytes before this are framed (or skipped)
  let bytesRead = 0;
  let eof = false;
  let first = true;
  let record = 0;
  let mode: 'unknown' | 'lines' | 'scan' = 'unknown';
  // Scanner state: nesting, strings, and the top-level array whose items are the documents.
  let scanPos = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let arrayMode = false;
  let startLine = 0;
  // Line breaks before the framing position (`consumed` for lines, `scanPos` for the scanner).
  let newlines = 0;
  let truncated = false;
  const truncation = (): Error =>
    new Error(`${name}: record ${record + 1}: truncated JSON document at end of file`);

  while (!eof) {
    if (filled === buf.length) {
      // No room left and no document completed in it: a document longer than the buffer.
      const bigger = allocate(buf.length * 2);
      buf.copy(bigger, 0, 0, filled);
      buf = bigger;
    }
    const n = await fill(buf, filled, buf.length - filled);
    if (n === 0) eof = true;
    filled += n;
    bytesRead += n;
    if (first && filled >= 3) {
      first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) consumed = scanPos = 3;
    } else if (first && eof) first = false;

    if (mode === 'unknown') {
      let p = consumed;
      while (p < filled && isAsciiSpace(buf[p]!)) p++;
      if (p === filled) {
        // Only whitespace so far.
        for (let k = buf.indexOf(10, consumed); k >= 0 && k < filled; k = buf.indexOf(10, k + 1)) newlines++;
        filled = consumed = scanPos = 0;
        if (!eof) continue;
      } else if (buf[p] === 0x5b /* [ */) {
        mode = 'scan';
      } else {
        const newline = buf.indexOf(10, p);
        if (newline < 0 || newline >= filled) {
          if (!eof) continue; // need a full first line to decide
          mode = 'scan';
        } else {
          const firstLine = buf.toString('utf8', p, newline).trim();
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
    }

    const ranges = new Ranges();
    const firstRecord = record + 1;
    if (mode === 'lines') {
      let from = consumed;
      for (;;) {
        const nl = buf.indexOf(10, from);
        if (nl < 0 || nl >= filled) break;
        const end = nl > from && buf[nl - 1] === 13 /* \r */ ? nl - 1 : nl;
        newlines++;
        if (!isBlank(buf, from, end)) {
          ranges.add(from, end, newlines);
          record++;
        }
        from = nl + 1;
      }
      if (eof && from < filled) {
        const end = buf[filled - 1] === 13 ? filled - 1 : filled;
        if (!isBlank(buf, from, end)) {
          ranges.add(from, end, newlines + 1);
          record++;
        }
        from = filled;
      }
      consumed = scanPos = from;
    } else if (mode === 'scan') {
      let i = scanPos;
      for (; i < filled; i++) {
        const c = buf[i]!;
        if (c === 10 /* \n */) newlines++;
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
          if (start < 0 && depth === (arrayMode ? 1 : 0)) {
            start = i;
            startLine = newlines + 1;
          }
          depth++;
        } else if (c === 125 /* } */ || c === 93 /* ] */) {
          depth--;
          if (arrayMode && depth === 0) {
            arrayMode = false; // end of the top-level array
            continue;
          }
          if (start >= 0 && depth === (arrayMode ? 1 : 0)) {
            ranges.add(start, i + 1, startLine);
            record++;
            start = -1;
          }
        }
      }
      scanPos = i;
      consumed = start >= 0 ? start : filled;
      truncated = eof && start >= 0 && !isBlank(buf, start, filled);
    }

    if (ranges.count === 0) {
      if (truncated) throw truncation();
      if (consumed === filled) {
        // Nothing kept: reuse the buffer from its start.
        scanPos -= consumed;
        if (start >= 0) start -= consumed;
        filled = consumed = 0;
      }
      continue;
    }
    // The unfinished tail moves to a fresh buffer first: the caller may transfer this one.
    const tail = filled - consumed;
    const next = allocate(Math.max(chunkSize, tail * 2));
    buf.copy(next, 0, consumed, filled);
    const frames: DocumentFrames = {
      bytes: buf,
      starts: ranges.starts.slice(0, ranges.count),
      ends: ranges.ends.slice(0, ranges.count),
      lines: ranges.lines.slice(0, ranges.count),
      count: ranges.count,
      firstRecord,
      ndjson: mode === 'lines',
      bytesRead,
    };
    scanPos -= consumed;
    if (start >= 0) start -= consumed;
    filled = tail;
    consumed = 0;
    buf = next;
    yield frames;
    if (truncated) throw truncation();
  }
}
