/**
 * MetaStore for Node: an embedded etcd-v3-semantics metadata store. Start with
 * {@link MetaStore.open}.
 * @packageDocumentation
 */

export { MetaStore, WriteBatch } from './store.js';
export type { OpenOptions, PutOptions, DeleteOptions, PutResponse, DeleteResponse, RangeResponse } from './store.js';
export type { KeySelector, RangeOptions, SortTargetName, SortOrderName } from './options.js';
export { MetaStoreError } from './errors.js';
export type { ErrorCode, ErrorCategory } from './errors.js';
export { createEngine } from './engine.js';
export type { EngineKind } from './engine.js';
export { BatchWriter, decodeBatch, encodeBatch, validateBatch, CODEC_VERSION } from './codec.js';
export type { PutFields, RangeFields, BatchLimits } from './codec.js';
export { prefixEnd, bytesToString, toBytes } from './bytes.js';
export type { Bytes } from './bytes.js';
export { SortOrder, SortTarget, DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES } from './types.js';
export type {
  KeyValue,
  Engine,
  EngineOptions,
  BatchResult,
  OpResult,
  PutResult,
  DeleteRangeResult,
  RangeResult,
  ErrorResult,
  Op,
  PutOp,
  DeleteRangeOp,
  RangeOp,
} from './types.js';
