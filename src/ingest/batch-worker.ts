/** Worker thread entry for WorkerBatchProcessor: one BatchCore, requests answered in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchCore } from './batch-core.js';
import type { WorkerReply, WorkerRequest } from './batch-processor.js';
import { normalise } from './normalise/index.js';

const port = parentPort;
if (!port) throw new Error('batch-worker.ts runs as a worker thread');
const core = new BatchCore(normalise, (workerData as { detect?: boolean } | null)?.detect ?? true);

port.on('message', (message: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (message.kind === 'reset') {
      core.reset();
      reply = { id: message.id, ok: true };
    } else {
      reply = { id: message.id, ok: true, result: core.process(message.request) };
    }
  } catch (error) {
    reply = { id: message.id, ok: false, message: (error as Error).message };
  }
  port.postMessage(reply);
});
