/**
 * MetaStore for Node: an embedded etcd-v3-semantics metadata store. Start with
 * {@link MetaStore.open}.
 * @packageDocumentation
 */

export { MetaStore, WriteBatch } from './store.js';
export type { OpenOptions, PutOptions, DeleteOptions, PutResponse, DeleteResponse, RangeResponse, CompactOptions, CompactResponse } from './types.js';
export type { KeySelector, RangeOptions, SortTargetName, SortOrderName, WatchOptions, WatchFilter } from './facade/selectors.js';
export { Txn, op } from './facade/txn.js';
export type { TxnRequest, TxnRequestOp, TxnCompare, TxnPut, TxnDelete, TxnResponse, TxnOpResponse, CompareTargetName, CompareOp } from './facade/txn.js';
export { LeaseClient } from './lease/lease-client.js';
export type { LeaseGrantResponse, LeaseRevokeResponse, LeaseKeepAliveResponse, LeaseTimeToLiveResponse } from './lease/lease-client.js';
export { DEFAULT_LEASE_CHECK_INTERVAL_MS, monotonicClock } from './lease/lessor.js';
export type { LeaseClock } from './lease/lessor.js';
export type { AutoCompactionOptions } from './compaction/auto-compactor.js';
export type { DurableOptions, RecoveryInfo } from './log/durable-options.js';
export type { ProposerOptions, ProposerStats } from './log/batch-proposer.js';
export type { WriteStats } from './log/write-path.js';
export { Watcher, DEFAULT_MAX_QUEUED_EVENTS } from './watch/watcher.js';
export type { WatchResponse, WatchCancel, WatchCancelReason } from './watch/watcher.js';
export { MetaStoreError } from './errors.js';
export { serve } from './server/lazy.js';
export type { ServeOptions, ServeTlsOptions, MetaStoreServer, ServerLogger, LogLevel, MemberIdentity } from './server/serve.js';
export type { ErrorCode, ErrorCategory } from './errors.js';
export { createEngine } from './engines/create-engine.js';
export type { EngineKind } from './engines/create-engine.js';
export { BatchWriter, decodeBatch, encodeBatch, validateBatch, CODEC_VERSION } from './codec.js';
export type { PutFields, RangeFields, BatchLimits } from './codec.js';
export { prefixEnd, bytesToString, toBytes } from './codec/bytes.js';
export type { Bytes } from './codec/bytes.js';
export {
  SortOrder,
  SortTarget,
  CompareTarget,
  CompareResult,
  EventsMode,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MAX_TXN_OPS,
  DEFAULT_MAX_TXN_DEPTH,
  TXN_DEPTH_CEILING,
  DEFAULT_MIN_LEASE_TTL,
  MAX_LEASE_TTL,
} from './types.js';
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
  TxnOp,
  Compare,
  RequestOp,
  LeaseGrantOp,
  LeaseRevokeOp,
  CompactOp,
  TxnResult,
  LeaseGrantResult,
  LeaseRevokeResult,
  CompactResult,
  WatchEvent,
  LeaseInfo,
} from './types.js';
