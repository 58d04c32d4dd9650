/**
 * Splitting a syslog byte stream (TCP or TLS) into frames, per RFC 6587 / RFC 5425. No I/O: a
 * connection feeds chunks in and gets decoded frames out.
 *
 * Framing is detected at every frame boundary, the way rsyslog and syslog-ng do it, so one
 * connection may mix both methods (RFC 6587 §3.4 leaves detection to the receiver; a syslog
 * message itself always starts with `<`, never with a digit):
 * - **octet counting** (`MSG-LEN SP SYSLOG-MSG`, MSG-LEN = NONZERO-DIGIT *DIGIT): the frame starts
 *   with digits 1-9 followed by a space;
 * - **non-transparent framing**: anything else, ended by LF (a CR before it is dropped) or NUL.
 *   A line that starts with digits not followed by a space (`2026-01-01 ...`) is a line.
 */

/** Decimal digits beyond which a length can no longer be an octet count we would ever accept. */
const MAX_LENGTH_DIGITS = 15;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;

export interface FramerLimits {
  /** Longest frame delivered, in bytes; longer frames are cut to this (at a UTF-8 boundary). */
  readonly maxFrameBytes: number;
  /**
   * Largest octet count accepted. Counts above `maxFrameBytes` but within this are cut to
   * `maxFrameBytes` and the rest skipped; larger counts are a framing error (the connection closes,
   * the claimed length is never allocated).
   */
  readonly maxOctetCount: number;
}

/** Called for each complete frame: text decoded as UTF-8 (invalid bytes become U+FFFD). */
export type FrameCallback = (text: string, truncated: boolean) => void;

/** Why a stream cannot be framed any further; the connection should be closed. */
export interface FramingError {
  readonly code: 'syslog_octet_count_too_large' | 'syslog_octet_count_too_long';
  readonly message: string;
}

/** What `end()` found left over when the stream closed. */
export type FramerEnd = 'clean' | 'partial_line_delivered' | 'partial_octet_frame';

type Mode = 'start' | 'length' | 'line' | 'discard' | 'octets' | 'skip';

/**
 * Stateful splitter for one connection. `push` returns a `FramingError` when the stream cannot
 * continue (frames emitted before it stand); after that the framer must not be used again.
 */
export class StreamFramer {
  private mode: Mode = 'start';
  private parts: Buffer[] = [];
  private partBytes = 0;
  private lengthValue = 0;
  private lengthDigits = 0;
  /** Octet frame: bytes still to keep, then bytes still to skip. */
  private keepLeft = 0;
  private skipLeft = 0;
  private octetTruncated = false;

  constructor(private readonly limits: FramerLimits) {}

  /** Feed one chunk; emits every frame it completes. */
  push(chunk: Buffer, emit: FrameCallback): FramingError | undefined {
    const n = chunk.length;
    const max = this.limits.maxFrameBytes;
    let pos = 0;
    // Next NUL at or after pos, found lazily so a NUL-free chunk is scanned once, not per frame.
    let nulAt = -2;
    while (pos < n) {
      switch (this.mode) {
        case 'start': {
          const b = chunk[pos]!;
          if (b >= 0x31 && b <= 0x39) {
            this.mode = 'length';
            this.lengthValue = 0;
            this.lengthDigits = 0;
          } else {
            this.mode = 'line';
          }
          break;
        }
        case 'length': {
          let b = chunk[pos]!;
          while (b >= 0x30 && b <= 0x39) {
            this.lengthValue = this.lengthValue * 10 + (b - 0x30);
            this.lengthDigits += 1;
            if (this.lengthDigits > MAX_LENGTH_DIGITS) {
              return {
                code: 'syslog_octet_count_too_long',
                message: `a frame starts with more than ${MAX_LENGTH_DIGITS} digits`,
              };
            }
            pos += 1;
            if (pos === n) return undefined;
            b = chunk[pos]!;
          }
          if (b === SP) {
            pos += 1;
            const length = this.lengthValue;
            if (length > this.limits.maxOctetCount) {
              return {
                code: 'syslog_octet_count_too_large',
                message: `octet count ${length} exceeds the limit of ${this.limits.maxOctetCount}`,
              };
            }
            this.mode = 'octets';
            this.octetTruncated = length > max;
            this.keepLeft = Math.min(length, max);
            this.skipLeft = length - this.keepLeft;
          } else {
            // Digits not followed by a space: a non-transparent frame that starts with digits.
            this.mode = 'line';
            this.parts.push(Buffer.from(String(this.lengthValue), 'latin1'));
            this.partBytes = this.lengthDigits;
          }
          break;
        }
        case 'line':
        case 'discard': {
          const lfAt = chunk.indexOf(LF, pos);
          if (nulAt !== -1 && nulAt < pos) nulAt = chunk.indexOf(NUL, pos);
          const end = nulAt === -1 ? lfAt : lfAt === -1 ? nulAt : Math.min(lfAt, nulAt);
          if (this.mode === 'discard') {
            if (end === -1) return undefined;
            pos = end + 1;
            this.mode = 'start';
            break;
          }
          if (end === -1) {
            this.appendLine(chunk.subarray(pos), emit);
            return undefined;
          }
          if (this.partBytes === 0 && end - pos <= max) {
            // Fast path: the whole frame sits in this chunk.
            const stop = end > pos && chunk[end - 1] === CR ? end - 1 : end;
            if (stop > pos) emit(chunk.toString('utf8', pos, stop), false);
          } else {
            this.appendLine(chunk.subarray(pos, end), emit);
            if (this.mode === 'line') this.emitParts(emit, false, true);
          }
          pos = end + 1;
          // After a cut the rest of the line up to `end` has just been discarded with it.
          this.mode = 'start';
          break;
        }
        case 'octets': {
          const take = Math.min(n - pos, this.keepLeft);
          this.parts.push(chunk.subarray(pos, pos + take));
          this.partBytes += take;
          this.keepLeft -= take;
          pos += take;
          if (this.keepLeft === 0) {
            this.emitParts(emit, this.octetTruncated, false);
            this.mode = this.skipLeft > 0 ? 'skip' : 'start';
          }
          break;
        }
        case 'skip': {
          const skip = Math.min(n - pos, this.skipLeft);
          this.skipLeft -= skip;
          pos += skip;
          if (this.skipLeft === 0) this.mode = 'start';
          break;
        }
      }
    }
    return undefined;
  }

  /** The stream closed: deliver a partial line, report a partial octet-counted frame. */
  end(emit: FrameCallback): FramerEnd {
    const mode = this.mode;
    this.mode = 'start';
    if (mode === 'length') {
      this.parts.push(Buffer.from(String(this.lengthValue), 'latin1'));
      this.partBytes = this.lengthDigits;
      this.emitParts(emit, false, true);
      return 'partial_line_delivered';
    }
    if (mode === 'line' && this.partBytes > 0) {
      this.emitParts(emit, false, true);
      return 'partial_line_delivered';
    }
    if (mode === 'octets') {
      this.parts = [];
      this.partBytes = 0;
      return 'partial_octet_frame';
    }
    this.parts = [];
    this.partBytes = 0;
    return 'clean';
  }

  /** Add bytes of a line without its terminator; past the limit, emit the cut frame and discard. */
  private appendLine(bytes: Buffer, emit: FrameCallback): void {
    const room = this.limits.maxFrameBytes - this.partBytes;
    if (bytes.length <= room) {
      if (bytes.length > 0) {
        this.parts.push(bytes);
        this.partBytes += bytes.length;
      }
      return;
    }
    this.parts.push(bytes.subarray(0, room));
    this.partBytes += room;
    this.emitParts(emit, true, true);
    this.mode = 'discard';
  }

  private emitParts(emit: FrameCallback, truncated: boolean, line: boolean): void {
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    const end = truncated ? utf8Boundary(whole, whole.length) : whole.length;
    const text = line ? stripCr(whole, end) : trimTrailers(whole, end);
    if (text.length > 0) emit(text, truncated);
  }
}

function stripCr(bytes: Buffer, end: number): string {
  return bytes.toString('utf8', 0, end > 0 && bytes[end - 1] === CR ? end - 1 : end);
}

/** Decode without trailing LF, CR and NUL (senders often end counted or datagram frames with one). */
export function trimTrailers(bytes: Buffer, end = bytes.length): string {
  let stop = end;
  while (stop > 0) {
    const b = bytes[stop - 1];
    if (b !== LF && b !== CR && b !== NUL) break;
    stop -= 1;
  }
  return bytes.toString('utf8', 0, stop);
}

/**
 * Where to cut `bytes[0, end)` so that it does not end inside a UTF-8 sequence: a frame cut at the
 * byte limit loses the partial character instead of gaining a U+FFFD.
 */
export function utf8Boundary(bytes: Buffer, end: number): number {
  let lead = end - 1;
  // Step back over at most three continuation bytes (10xxxxxx) to the lead byte.
  while (lead >= 0 && end - lead <= 3 && (bytes[lead]! & 0xc0) === 0x80) lead -= 1;
  if (lead < 0) return end;
  const b = bytes[lead]!;
  const width = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? (b < 0xf0 ? 3 : 1) : b >= 0xc2 ? 2 : 1;
  return lead + width > end ? lead : end;
}
