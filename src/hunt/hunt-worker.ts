/**
 * Worker thread entry of a parallel hunt (see hunt-pool.ts): builds the rule set from its origin, then
 * parses and matches the documents of each piece of input it is handed, and returns the piece with the
 * matches. Stateless between pieces: correlations and anomaly baselines run on the hunt's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SigmaMatcher } from '../detection/engine.js';
import { prepareEvent } from '../detection/event.js';
import { buildRuleSet, type CompiledRule } from '../detection/rule-set.js';
import type { HuntWorkerData, PieceReply, PieceRequest, WorkerMessage } from './hunt-pool.js';

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

function matchPiece(request: PieceRequest): PieceReply {
  const bytes = Buffer.from(request.bytes, 0, request.byteLength);
  const { starts, ends, count } = request;
  const matched: number[] = [];
  const times: number[] = [];
  const ruleStarts: number[] = [0];
  const rules: number[] = [];
  const texts: string[] = [];
  let error: PieceReply['error'];
  for (let i = 0; i < count; i++) {
    let value: unknown;
    const text = bytes.toString('utf8', starts[i], ends[i]);
    try {
      value = JSON.parse(text);
    } catch (e) {
      error = { index: i, message: (e as Error).message };
      break;
    }
    if (value === null || typeof value !== 'object') continue;
    const event = prepareEvent(value);
    const found = matcher.match(event);
    if (found.length === 0) continue;
    matched.push(i);
    texts.push(text);
    times.push(event.timestamp() ?? NaN);
    for (const rule of found) rules.push(indexOf.get(rule)!);
    ruleStarts.push(rules.length);
  }
  return {
    kind: 'piece',
    seq: request.seq,
    bytes: request.bytes,
    matched: Int32Array.from(matched),
    times: Float64Array.from(times),
    ruleStarts: Int32Array.from(ruleStarts),
    rules: Int32Array.from(rules),
    texts,
    error,
  };
}

port.on('message', (request: PieceRequest) => {
  const reply = matchPiece(request);
  send(reply, [reply.bytes]);
});
