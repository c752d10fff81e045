/**
 * The op codec, version 1 (docs/codec.md): the one binary form of a batch of ops. Written here,
 * read by the Rust engine and by the pure-TS engine, later stored by the log.
 */

export * from './codec/constants.js';
export { BatchWriter, encodeBatch, type PutFields, type RangeFields, type CompareFields } from './codec/writer.js';
export { BatchReader, decodeOpAt, skipOp } from './codec/reader.js';
export { validateBatch, decodeBatch, checkRangeOp, txnDepthLimit, type BatchLimits } from './codec/validate.js';
