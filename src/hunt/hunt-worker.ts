/**
 * Worker thread entry of a parallel hunt (see hunt-pool.ts): builds the rule set from its origin, then
 * decodes, parses and matches the events of each piece of input it is handed (JSON documents, or EVTX
 * chunks), and returns the piece with the matches. Stateless between pieces: correlations and anomaly
 * baselines run on the hunt's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SigmaMatcher } from '../detection/engine.js';
import { prepareEvent } from '../detection/event.js';
import { buildRuleSet, type CompiledRule } from '../detection/rule-set.js';
import { decodeChunkBatch, EvtxDecoder } from '../ingest/evtx/index.js';
import { wrappedRecords } from '../ingest/files/record-wrappers.js';
import { eventHost } from './event-host.js';
import type { HuntWorkerData, PieceReply, PieceRequest, WorkerMessage } from './hunt-pool.js';
import { inWindow, type TimeWindow } from './time-window.js';

const port = parentPort;
if (!port) throw new Error('hunt-worker.ts runs as a worker thread');
const send = (message: WorkerMessage, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);

let matcher: SigmaMatcher;
const indexOf = new Map<CompiledRule, number>();
try {
  const { origin, engine } = workerData as HuntWorkerData;
  const { set } = buildRuleSet(origin.documents, origin.mapping, { placeholders: origin.placeholders });
  matcher = new SigmaMatcher(set.rules, engine);
  set.rules.forEach((rule, i) => indexOf.set(rule, i));
  send({ kind: 'ready', rules: set.rules.length });
} catch (error) {
  send({ kind: 'failed', message: (error as Error).message });
  throw error;
}

/** What one piece's events matched (see PieceReply). */
class PieceMatches {
  events = 0;
  outsideWindow = 0;
  readonly records: number[] = [];
  readonly times: number[] = [];
  readonly ruleStarts: number[] = [0];
  readonly rules: number[] = [];
  readonly texts: string[] = [];
  readonly hosts: string[] = [];

  constructor(private readonly window: TimeWindow | null) {}

  /** Matches one parsed document (an event, or a wrapper of events); `text` gives its text. */
  consider(value: unknown, record: number, text: () => string): void {
    const items = wrappedRecords(value);
    if (items === null) this.considerEvent(value, record, text);
    else for (const item of items) this.considerEvent(item, record, () => JSON.stringify(item));
  }

  /** Matches one parsed event; `text` gives its text when it matched. */
  private considerEvent(value: unknown, record: number, text: () => string): void {
    this.events++;
    if (value === null || typeof value !== 'object') return;
    const event = prepareEvent(value);
    const time = event.timestamp();
    if (this.window !== null && !inWindow(this.window, time)) {
      this.outsideWindow++;
      return;
    }
    const found = matcher.match(event);
    if (found.length === 0) return;
    this.records.push(record);
    this.texts.push(text());
    this.hosts.push(eventHost(event) ?? '');
    this.times.push(time ?? NaN);
    for (const rule of found) this.rules.push(indexOf.get(rule)!);
    this.ruleStarts.push(this.rules.length);
  }

  reply(request: PieceRequest, error?: PieceReply['error']): PieceReply {
    return {
      kind: 'piece',
      seq: request.seq,
      bytes: request.bytes,
      events: this.events,
      outsideWindow: this.outsideWindow,
      records: Float64Array.from(this.records),
      times: Float64Array.from(this.times),
      ruleStarts: Int32Array.from(this.ruleStarts),
      rules: Int32Array.from(this.rules),
      texts: this.texts,
      hosts: this.hosts,
      error,
    };
  }
}

function matchPiece(request: PieceRequest): PieceReply {
  const bytes = Buffer.from(request.bytes, 0, request.byteLength);
  const out = new PieceMatches(request.window);
  const { layout } = request;
  if (layout.kind === 'json') {
    const { starts, ends, count, firstRecord } = layout;
    for (let i = 0; i < count; i++) {
      const text = bytes.toString('utf8', starts[i], ends[i]);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return out.reply(request, { record: firstRecord + i, message: (e as Error).message });
      }
      out.consider(value, firstRecord + i, () => text);
    }
  } else {
    // Problems in the file are skipped, as the hunt on one thread skips them (readEvtxFile).
    const batch = { bytes, firstChunk: layout.firstChunk, position: layout.position };
    for (const r of decodeChunkBatch(new EvtxDecoder(), batch))
      out.consider(r.event, r.recordId, () => JSON.stringify(r.event));
  }
  return out.reply(request);
}

port.on('message', (request: PieceRequest) => {
  const reply = matchPiece(request);
  send(reply, [reply.bytes]);
});
