/** Reading log files as events for ingestion (see docs/ingest.md). */
export { openEventFile, EventFile, type EventFileOptions } from './event-file.js';
export {
  planRead,
  sniffLineFormat,
  lineShape,
  FILE_FORMATS,
  SNIFF_BYTES,
  type FileFormat,
} from './detect-format.js';
export {
  FILE_LAYOUTS,
  type FileLayout,
  type FileProblem,
  type FileRecord,
  type ReadPlan,
} from './file-record.js';
