/** Native Windows EVTX reading: pure decoding of bytes, plus a streaming file reader. See docs/evtx.md. */
export {
  parseEvtx,
  EvtxDecoder,
  EvtxParse,
  CHUNK_SIZE,
  FILE_HEADER_SIZE,
  type EvtxFileHeader,
  type EvtxOptions,
  type EvtxProblem,
  type EvtxProblemCode,
  type EvtxRecord,
  type EvtxStats,
} from './decoder.js';
export type { JsonObject, JsonValue } from './model.js';
export {
  readEvtxFile,
  decodeChunkBatch,
  EvtxFileRead,
  type EvtxChunkBatch,
  type EvtxFileOptions,
} from './evtx-file.js';
export { decodeEvtxStream, EvtxStreamDecode } from './evtx-stream.js';
