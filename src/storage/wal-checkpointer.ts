import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies SQLite's write-ahead log back into the database file from a thread of its own. SQLite does
 * this (a checkpoint) inside the commit that crosses `wal_autocheckpoint` pages, on the thread that
 * commits: with events arriving at tens of thousands a second, that thread spent about as long
 * waiting for checkpoint writes and their fsync as for everything else it does. Here a second
 * connection runs PASSIVE checkpoints, which never block the writer or readers; the writer's own
 * autocheckpoint stays on with a far higher threshold, as a safety net should this thread fall behind.
 *
 * The worker is plain JavaScript evaluated from this string, so it runs the same from source and from
 * a build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
let timer = null;
let failures = 0;
const tick = () => {
  try {
    db.pragma('busy_timeout = 0');
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    // A writer that never pauses keeps the log from being fully copied at the moment it starts its
    // next transaction, which is when SQLite rewinds the log; it would grow without end. Once it is
    // long, RESTART copies the little left (waiting briefly for the writer) and rewinds it.
    if (result && result.log >= workerData.restartFrames) {
      db.pragma('busy_timeout = 1000');
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch {
    failures++; // busy or transient: the next tick tries again
  }
  timer = setTimeout(tick, workerData.everyMs);
};
timer = setTimeout(tick, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  try { db.close(); } catch {}
  parentPort.postMessage({ stopped: true, failures });
});
`;

export interface WalCheckpointer {
  stop(): Promise<void>;
}

/** Starts background checkpoints of the SQLite database at `file` every `everyMs`. */
export function startWalCheckpointer(file: string, everyMs = 250, restartFrames = 8192): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, everyMs, restartFrames },
  });
  // Never keeps the process alive by itself; `stop` closes its connection cleanly.
  worker.unref();
  let stopping: Promise<void> | null = null;
  worker.on('error', () => undefined); // a failed checkpointer leaves the writer's autocheckpoint in charge
  return {
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('exit', done);
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.postMessage('stop');
        // A worker that died already, or does not answer, is terminated.
        setTimeout(() => void worker.terminate().then(done, done), 2000).unref();
      });
      return stopping;
    },
  };
}
