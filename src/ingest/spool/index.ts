/** The durable spool between sources and the pipeline. See docs/spool.md. */
export { spoolIntake, type AppendReceipt, type Spool, type SpoolStats, type SpooledEvent, type SpooledText } from './spool.js';
export {
  openFileSpool,
  FileSpool,
  type FileSpoolOptions,
  type SpoolFileIo,
  type SpoolRecovery,
} from './file-spool.js';
