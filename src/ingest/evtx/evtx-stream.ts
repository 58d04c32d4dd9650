/**
 * Decodes an EVTX file that arrives as a stream of byte pieces of any size (an HTTP upload, a
 * decompression stream, a socket). Pure: the caller supplies the pieces. Memory stays at one chunk
 * (64 KiB) plus the piece being consumed, whatever the file size.
 */
import {
  CHUNK_SIZE,
  EvtxDecoder,
  FILE_HEADER_SIZE,
  type EvtxFileHeader,
  type EvtxOptions,
  type EvtxRecord,
  type EvtxStats,
} from './decoder.js';

/**
 * Yields the records of the EVTX bytes that `source` produces, in order. Damage inside the bytes is
 * skipped and reported in `stats` as with parseEvtx; only an error thrown by `source` itself rejects.
 */
export function decodeEvtxStream(
  source: AsyncIterable<Uint8Array>,
  options: EvtxOptions = {},
): EvtxStreamDecode {
  return new EvtxStreamDecode(source, options);
}

export class EvtxStreamDecode implements AsyncIterable<EvtxRecord> {
  private decoder: EvtxDecoder;
  private fileHeader: EvtxFileHeader | null = null;
  private consumed = 0;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly options: EvtxOptions,
  ) {
    this.decoder = new EvtxDecoder(options);
  }

  /** Counters and problems so far (live while iterating). */
  get stats(): EvtxStats {
    return this.decoder.stats;
  }

  get header(): EvtxFileHeader | null {
    return this.fileHeader;
  }

  /** Bytes taken from the source so far. */
  get bytesRead(): number {
    return this.consumed;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EvtxRecord, void, undefined> {
    const decoder = new EvtxDecoder(this.options);
    this.decoder = decoder;
    this.consumed = 0;
    // The header block first, then one chunk at a time, each gathered into `block` before decoding.
    let block = new Uint8Array(FILE_HEADER_SIZE);
    let filled = 0;
    let inHeader = true;
    let chunkIndex = 0;
    let offset = FILE_HEADER_SIZE;
    for await (const piece of this.source) {
      this.consumed += piece.length;
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(block.length - filled, piece.length - at);
        block.set(piece.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled < block.length) break;
        if (inHeader) {
          this.fileHeader = decoder.decodeFileHeader(block);
          inHeader = false;
          block = new Uint8Array(CHUNK_SIZE);
        } else {
          yield* decoder.decodeChunk(block, chunkIndex++, offset);
          offset += CHUNK_SIZE;
        }
        filled = 0;
      }
    }
    if (inHeader) {
      const head = block.subarray(0, filled);
      this.fileHeader = decoder.decodeFileHeader(head);
      if (filled >= 128) {
        decoder.report({
          code: 'file_truncated',
          message: `file is ${filled} bytes, shorter than its 4096-byte header block`,
          offset: 0,
        });
      }
      return;
    }
    if (filled > 0) yield* decoder.decodeChunk(block.subarray(0, filled), chunkIndex, offset);
  }
}
