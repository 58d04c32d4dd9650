/** Runs the detection benchmark alone: `node --expose-gc --import tsx bench/detection-main.ts`. */
import { runDetectionBench } from './detection.js';

await runDetectionBench();
