/**
 * `npm run bench [-- NAME...]` runs the named benchmarks, or all of them. Each prints its figures beside
 * a baseline measured in the same run, since this machine is shared and noisy.
 */
import { runConsoleBench } from './console.js';
import { runDetectionBench } from './detection.js';
import { runEvtxBench } from './evtx.js';
import { runFoundationBench } from './foundation.js';
import { runIngestBench } from './ingest.js';
import { runIngestStagesBench } from './ingest-stages.js';
import { runNormaliseBench } from './normalise.js';
import { runSpoolBench } from './spool.js';
import { runSyslogBench } from './syslog.js';

/** A benchmark prints as it goes, or returns its report. */
const BENCHES: Record<string, () => Promise<void | string>> = {
  foundation: runFoundationBench,
  detection: runDetectionBench,
  evtx: runEvtxBench,
  normalise: runNormaliseBench,
  spool: runSpoolBench,
  syslog: runSyslogBench,
  ingest: runIngestBench,
  'ingest-stages': runIngestStagesBench,
  console: runConsoleBench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const report = await BENCHES[name]!();
  if (typeof report === 'string') process.stdout.write(report.endsWith('\n') ? report : `${report}\n`);
}
