import { frameJsonPath, frameJsonStream, type DocumentFrames } from './json-framer.js';

/** One JSON document from an input file, with its 1-based position. */
export interface JsonRecord {
  readonly record: number;
  /** 1-based line of the input where the document starts. */
  readonly line: number;
  readonly value: unknown;
  /** The document as written in the input (for NDJSON, the line without its line break). */
  readonly text: string;
}

export interface ReadProgress {
  /** Bytes consumed so far (approximate: counted per piece of input). */
  bytes: number;
}

export interface JsonReadOptions {
  readonly progress?: ReadProgress;
  /**
   * When given, a malformed NDJSON line is reported here and skipped instead of ending the read
   * (ingestion keeps going past one bad line; hunting stops). Other layouts cannot resynchronise after
   * a malformed document, so they still throw.
   */
  readonly onMalformedLine?: (line: number, message: string) => void;
}

/**
 * Streams the JSON documents of a file, whatever its layout: NDJSON (one document per line), a JSON array
 * of documents, or documents concatenated one after another, pretty-printed or not (as evtx dump tools
 * write them); gzip-compressed or not (told by its first bytes). A malformed document throws with its
 * record number.
 */
export function readJsonDocuments(path: string, progress?: ReadProgress): AsyncGenerator<JsonRecord> {
  return parseFrames(frameJsonPath(path), path, { progress });
}

/**
 * Streams the JSON documents of bytes arriving in pieces (a file, a gunzip stream), in the layouts
 * `readJsonDocuments` reads, holding only the unfinished document. `name` prefixes error messages. A
 * malformed document throws with its record number (NDJSON lines: see `onMalformedLine`).
 */
export function parseJsonDocuments(
  pieces: AsyncIterable<Uint8Array>,
  name: string,
  options: JsonReadOptions = {},
): AsyncGenerator<JsonRecord> {
  return parseFrames(frameJsonStream(pieces, name), name, options);
}

/**
 * Decodes and parses each framed document on its own: about a third faster than decoding the input in
 * 1 MiB strings and slicing the documents out (one character past Latin-1 in a piece made all of it,
 * and every document sliced from it, a two-byte string, slower to parse).
 */
async function* parseFrames(
  frames: AsyncIterable<DocumentFrames>,
  name: string,
  { progress, onMalformedLine }: JsonReadOptions,
): AsyncGenerator<JsonRecord> {
  const progressStart = progress?.bytes ?? 0;
  for await (const f of frames) {
    if (progress) progress.bytes = progressStart + f.bytesRead;
    const { bytes, starts, ends, lines } = f;
    for (let i = 0; i < f.count; i++) {
      const record = f.firstRecord + i;
      const line = lines[i]!;
      const text = bytes.toString('utf8', starts[i], ends[i]);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const message = `invalid JSON (${(error as Error).message})`;
        if (f.ndjson && onMalformedLine !== undefined) {
          onMalformedLine(line, message);
          continue;
        }
        throw new Error(`${name}: record ${record}: ${message}`, { cause: error });
      }
      yield { record, line, value, text };
    }
  }
}
