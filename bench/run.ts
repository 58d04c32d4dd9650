/**
 * `npm run bench [-- NAME...]` runs the named benchmarks, or all of them. Each prints its figures beside
 * a baseline measured in the same run, since this machine is shared and noisy.
 */
import { runDetectionBench } from './detection.js';
import { runEvtxBench } from './evtx.js';
import { runFoundationBench } from './foundation.js';

const BENCHES: Record<string, () => Promise<void>> = {
  foundation: runFoundationBench,
  detection: runDetectionBench,
  evtx: runEvtxBench,
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
  await BENCHES[name]!();
}
