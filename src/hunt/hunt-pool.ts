import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineOptions } from '../detection/engine.js';
import type { RuleSet, RuleSetOrigin } from '../detection/rule-set.js';
import { CHUNK_SIZE, readEvtxFile } from '../ingest/evtx/index.js';
import { frameJsonPath } from './json-framer.js';
import type { TimeWindow } from './time-window.js';

/** What a hunt worker is started with (structured-cloned). */
export interface HuntWorkerData {
  readonly origin: RuleSetOrigin;
  readonly engine: EngineOptions;
}

/** What a piece of input holds: documents of a JSON file (byte ranges), or chunk slots of an EVTX file. */
export type PieceLayout =
  | {
      readonly kind: 'json';
      readonly starts: Int32Array;
      readonly ends: Int32Array;
      readonly count: number;
      /** Record number of the first document. */
      readonly firstRecord: number;
    }
  | {
      readonly kind: 'evtx';
      /** Index of the first chunk slot, and its file offset (for the decoder's problem reports). */
      readonly firstChunk: number;
      readonly position: number;
    };

/** One piece of input for a worker: the buffer is transferred, and comes back with the reply. */
export interface PieceRequest {
  readonly seq: number;
  readonly bytes: ArrayBuffer;
  readonly byteLength: number;
  readonly layout: PieceLayout;
  /** The hunt's time window: events outside it are skipped before matching. */
  readonly window: TimeWindow | null;
}

/**
 * The matches of one piece: for each event that matched (in order), its record number (the document's
 * position in a JSON file, the EventRecordID in an EVTX file), its time (NaN when it has none), its
 * text, and the indices of the rules it matched (in `rules`, from `ruleStarts[k]` to
 * `ruleStarts[k + 1]`), as the matcher returned them. `error` stops at the first document that is not
 * JSON: the lists hold the matches before it.
 */
export interface PieceReply {
  readonly kind: 'piece';
  readonly seq: number;
  readonly bytes: ArrayBuffer;
  /** Documents or records read from the piece (before the error, if any). */
  readonly events: number;
  /** Of those, the events skipped outside the time window (or without a time, when there is one). */
  readonly outsideWindow: number;
  readonly records: Float64Array;
  readonly times: Float64Array;
  readonly ruleStarts: Int32Array;
  readonly rules: Int32Array;
  /**
   * The text of each event that matched: as decoded for parsing (JSON; copying a string to this thread
   * costs less than decoding its bytes again here), or serialised (EVTX).
   */
  readonly texts: readonly string[];
  /** The host of each event that matched (`eventHost`; '' when it names none), for the summary. */
  readonly hosts: readonly string[];
  readonly error?: { readonly record: number; readonly message: string };
}

export type WorkerMessage =
  | { readonly kind: 'ready'; readonly rules: number }
  | { readonly kind: 'failed'; readonly message: string }
  | PieceReply;

/** A piece of input read, before it goes to a worker. */
interface Piece {
  /** A buffer of its own, from offset 0 (transferable). */
  readonly bytes: Uint8Array;
  readonly layout: PieceLayout;
  /** Bytes of the file read so far. */
  readonly bytesRead: number;
}

/** A piece's matches, handed back to the hunt in file order. */
export interface MatchedPiece {
  readonly reply: PieceReply;
  /** Bytes of the file read up to the end of this piece, for progress. */
  readonly bytesRead: number;
}

/** Inputs read as EVTX, by name, gzip-compressed or not (the rest as JSON). */
export const isEvtx = (path: string): boolean => /\.evtx(\.gz)?$/i.test(path);

async function* jsonPieces(
  path: string,
  pieceBytes: number,
  allocate: (size: number) => Buffer,
): AsyncGenerator<Piece> {
  for await (const f of frameJsonPath(path, pieceBytes, allocate)) {
    yield {
      bytes: f.bytes,
      layout: { kind: 'json', starts: f.starts, ends: f.ends, count: f.count, firstRecord: f.firstRecord },
      bytesRead: f.bytesRead,
    };
  }
}

async function* evtxPieces(
  path: string,
  pieceBytes: number,
  allocate: (size: number) => Buffer,
): AsyncGenerator<Piece> {
  const file = readEvtxFile(path, { chunksPerRead: Math.max(1, Math.round(pieceBytes / CHUNK_SIZE)) });
  for await (const batch of file.batches(allocate)) {
    yield {
      bytes: batch.bytes,
      layout: { kind: 'evtx', firstChunk: batch.firstChunk, position: batch.position },
      bytesRead: file.bytesRead,
    };
  }
}

/**
 * The worker's entry next to this module: compiled JavaScript in a build; from source (tests, `tsx`) a
 * small bootstrap that registers tsx in the worker first.
 */
function workerEntry(): URL {
  const own = import.meta.url;
  return own.endsWith('.ts')
    ? new URL('./hunt-worker-from-source.mjs', own)
    : new URL('./hunt-worker.js', own);
}

interface Slot {
  readonly worker: Worker;
  /** Pieces sent and not answered yet. */
  load: number;
}

export interface HuntPoolOptions {
  /** Worker threads to start. */
  readonly threads: number;
  readonly engine?: EngineOptions;
  /** About how many bytes of input each piece holds (default 1 MiB). */
  readonly pieceBytes?: number;
}

/**
 * Large enough that a piece's messages cost little beside its matching (about 700 events of the
 * benchmark), small enough that the pieces in flight stay a few MiB.
 */
const PIECE_BYTES = 1 << 20;

/** Pieces in flight per worker: one being matched, one waiting, so a worker never idles on the reader. */
const DEPTH = 2;

/**
 * Worker threads that match the events of input files against a rule set, for a hunt over large inputs:
 * this thread reads the input in pieces (JSON framed into documents by `frameJsonPath`, EVTX as whole
 * chunk slots) and hands each piece to the least busy worker; each worker builds the same rule set from
 * `set.origin`, decodes, parses and matches, and returns the piece with its matches. Pieces come back to the caller in file order, so everything
 * stateful (correlations, anomaly baselines, the output) stays on the calling thread and sees events
 * in the order of the input.
 */
export class HuntPool {
  private readonly slots: Slot[] = [];
  private failure: Error | null = null;
  private onReply: ((reply: PieceReply) => void) | null = null;
  private onFailure: ((error: Error) => void) | null = null;
  /**
   * Piece buffers back from the workers, read into again: a new 1 MiB buffer per piece made V8 run a
   * full collection every few hundred MiB of input for the external memory alone.
   */
  private readonly spare: Buffer[] = [];

  private constructor(
    /** The rule set the workers built: rule indices in their replies are indices into its rules. */
    readonly set: RuleSet,
    private readonly pieceBytes: number,
  ) {}

  /** Starts `threads` workers and resolves once each has built the rule set. */
  static async start(set: RuleSet, options: HuntPoolOptions): Promise<HuntPool> {
    const { threads, engine = {} } = options;
    if (set.origin === undefined) throw new Error('hunt workers need a rule set built by buildRuleSet');
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads: must be a positive integer`);
    const entry = workerEntry();
    if (!existsSync(fileURLToPath(entry))) throw new Error(`hunt worker not found: ${entry.href}`);
    const pool = new HuntPool(set, options.pieceBytes ?? PIECE_BYTES);
    const data: HuntWorkerData = {
      origin: set.origin,
      engine: { prefilter: engine.prefilter, scan: engine.scan },
    };
    const ready: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      // Parsing allocates a young generation's worth per piece that dies at once; 64 MiB semi-spaces, as
      // `npm run bench` and `npm start` give the main thread.
      const worker = new Worker(entry, {
        workerData: data,
        resourceLimits: { maxYoungGenerationSizeMb: 192 },
      });
      const slot: Slot = { worker, load: 0 };
      pool.slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (message: WorkerMessage) => {
            if (message.kind === 'ready') {
              if (message.rules !== set.rules.length)
                reject(new Error(`hunt worker built ${message.rules} rules, expected ${set.rules.length}`));
              else resolve();
            } else if (message.kind === 'failed') reject(new Error(`hunt worker: ${message.message}`));
            else {
              slot.load--;
              pool.onReply?.(message);
            }
          });
          const fail = (error: Error): void => {
            reject(error);
            pool.fail(error);
          };
          worker.on('error', fail);
          worker.on('exit', (code) => fail(new Error(`hunt worker exited with code ${code}`)));
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    this.onFailure?.(error);
  }

  /**
   * Matches the events of one file: JSON (any layout `readJsonDocuments` reads) or, for a `.evtx` name,
   * EVTX. `onPiece` receives each piece's matches in file order (on this thread); an error it throws
   * ends the file, after the pieces already in flight come back. Events outside `window` are skipped.
   */
  async huntFile(
    path: string,
    onPiece: (piece: MatchedPiece) => void,
    window: TimeWindow | null = null,
  ): Promise<void> {
    if (this.onReply !== null) throw new Error('a hunt pool runs one file at a time');
    // Progress at each piece in flight.
    const waiting = new Map<number, number>();
    const done = new Map<number, PieceReply>();
    let nextSeq = 0;
    let nextOut = 0;
    let error: Error | null = this.failure;
    let wake: (() => void) | null = null;
    const signal = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    this.onReply = (reply) => {
      done.set(reply.seq, reply);
      for (let r = done.get(nextOut); r !== undefined; r = done.get(nextOut)) {
        done.delete(nextOut);
        const bytesRead = waiting.get(nextOut)!;
        waiting.delete(nextOut);
        nextOut++;
        if (error !== null) continue;
        try {
          onPiece({ reply: r, bytesRead });
        } catch (e) {
          error = e as Error;
        }
        if (this.spare.length < this.slots.length * DEPTH + 2) this.spare.push(Buffer.from(r.bytes));
      }
      signal();
    };
    this.onFailure = (e) => {
      error ??= e;
      signal();
    };
    const idle = (): Promise<void> => new Promise<void>((resolve) => (wake = resolve));
    try {
      const allocate = (size: number): Buffer => {
        const i = this.spare.findIndex((b) => b.length >= size);
        return i < 0 ? Buffer.allocUnsafeSlow(size) : this.spare.splice(i, 1)[0]!;
      };
      const pieces = isEvtx(path) ? evtxPieces : jsonPieces;
      for await (const piece of pieces(path, this.pieceBytes, allocate)) {
        for (;;) {
          if (error !== null) break;
          const slot = this.slots.reduce((a, b) => (b.load < a.load ? b : a));
          if (slot.load < DEPTH) {
            const seq = nextSeq++;
            waiting.set(seq, piece.bytesRead);
            slot.load++;
            const request: PieceRequest = {
              seq,
              bytes: piece.bytes.buffer as ArrayBuffer,
              byteLength: piece.bytes.length,
              layout: piece.layout,
              window,
            };
            slot.worker.postMessage(request, [request.bytes]);
            break;
          }
          await idle();
        }
        if (error !== null) break;
      }
    } catch (e) {
      error ??= e as Error;
    }
    try {
      while (nextOut < nextSeq && this.failure === null) await idle();
    } finally {
      this.onReply = null;
      this.onFailure = null;
    }
    if (error !== null) throw error;
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const s of slots) s.worker.removeAllListeners('exit');
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
