import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BatchCore, type BatchRequest, type BatchResult, type Normaliser } from './batch-core.js';
import { normalise } from './normalise/index.js';

/**
 * Where the pipeline's CPU work runs (see batch-core.ts). Requests are handled one at a time, in the
 * order they were sent, so the pipeline may send the next batch before the previous one's result is
 * back.
 */
export interface BatchProcessor {
  process(request: BatchRequest): Promise<BatchResult>;
  /** Forgets all detection state (the pipeline starts again from its checkpoint). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The core on the calling thread: for tests, tools, and `FIREBREAK_INGEST_WORKER=off`. */
export class InlineBatchProcessor implements BatchProcessor {
  private readonly core: BatchCore;

  constructor(options: { normalise?: Normaliser; detect?: boolean } = {}) {
    this.core = new BatchCore(options.normalise ?? normalise, options.detect ?? true);
  }

  process(request: BatchRequest): Promise<BatchResult> {
    return Promise.resolve(this.core.process(request));
  }

  reset(): Promise<void> {
    this.core.reset();
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Messages to the worker (batch-worker.ts) and back. */
export type WorkerRequest =
  | { readonly id: number; readonly kind: 'process'; readonly request: BatchRequest }
  | { readonly id: number; readonly kind: 'reset' };
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result?: BatchResult }
  | { readonly id: number; readonly ok: false; readonly message: string };

interface Pending {
  resolve(value: BatchResult | undefined): void;
  reject(error: Error): void;
}

/**
 * The worker's entry next to this module: compiled JavaScript in a build; from source (tests, `tsx`)
 * a small bootstrap that registers tsx in the worker and loads the TypeScript entry.
 */
function workerEntry(): URL {
  const own = import.meta.url;
  return own.endsWith('.ts')
    ? new URL('./batch-worker-from-source.mjs', own)
    : new URL('./batch-worker.js', own);
}

/** The core in a worker thread, so parsing and detection run beside the thread that stores. */
export class WorkerBatchProcessor implements BatchProcessor {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: { detect?: boolean } = {}) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    if (!existsSync(fileURLToPath(entry))) throw new Error(`batch worker not found: ${entry.href}`);
    const worker = new Worker(entry, {
      workerData: { detect: this.options.detect ?? true },
      // A batch allocates tens of MiB that die with it; in V8's default young generation much of it
      // lived long enough to be promoted and collected again by the slow old-generation GC. 64 MiB
      // gave 7-18% less worker CPU on the syslog benchmark; 192 MiB (64 MiB semi-spaces, as `npm start`
      // gives the main thread) about 3% less CPU in all again. The space grows only when used.
      resourceLimits: { maxYoungGenerationSizeMb: 192 },
    });
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`batch worker: ${reply.message}`));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`batch worker exited with code ${code}`)));
    // An idle worker must not keep the process alive on its own (shutdown closes it explicitly); one
    // with requests in hand does (see send), or a shutdown that saves detection state at the end would
    // find the event loop empty and the process gone before the answer came.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private send(
    message: { kind: 'process'; request: BatchRequest } | { kind: 'reset' },
  ): Promise<BatchResult | undefined> {
    if (this.closed) return Promise.reject(new Error('batch processor closed'));
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  async process(request: BatchRequest): Promise<BatchResult> {
    return (await this.send({ kind: 'process', request }))!;
  }

  async reset(): Promise<void> {
    await this.send({ kind: 'reset' });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
