/**
 * Errors on the wire: the store's {@link MetaStoreError} codes turned into the gRPC status codes
 * and the exact `etcdserver: …` messages etcd returns for the same condition (clients match on
 * the text: etcdctl, clientv3's rpctypes and the etcd3 npm package map errors by message), and
 * the errors only the server raises. docs/server.md has the table.
 */

import { status, type ServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { MetaStoreError, type ErrorCode } from '../index.js';

/** A gRPC status with its message, as a handler fails a call. */
export class WireError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
    this.name = 'WireError';
  }
}

// etcd's messages (etcd: api/v3rpc/rpctypes/error.go), by condition.
export const ETCD = {
  emptyKey: new WireError(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: new WireError(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: new WireError(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: new WireError(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: new WireError(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: new WireError(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  invalidSortOption: new WireError(status.INVALID_ARGUMENT, 'etcdserver: invalid sort option'),
  requestTooLarge: new WireError(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  compacted: new WireError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: new WireError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: new WireError(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExist: new WireError(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: new WireError(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  authNotEnabled: new WireError(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  rootUserNotExist: new WireError(status.FAILED_PRECONDITION, 'etcdserver: root user does not exist'),
  notCapable: new WireError(status.FAILED_PRECONDITION, 'etcdserver: not capable'),
  stopped: new WireError(status.UNAVAILABLE, 'etcdserver: server stopped'),
  timeout: new WireError(status.UNAVAILABLE, 'etcdserver: request timed out'),
  corrupt: new WireError(status.DATA_LOSS, 'etcdserver: corrupt cluster'),
  tooManyRequests: new WireError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
} as const;

/** The text of an etcd error without its `etcdserver: ` prefix (a watch's cancel_reason carries it like this for some errors). */
export const MVCC_WATCH = {
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
  emptyRange: 'mvcc: watcher range is empty',
} as const;

const BY_CODE: Partial<Record<ErrorCode, WireError>> = {
  ERR_KEY_NOT_PROVIDED: ETCD.emptyKey,
  ERR_KEY_NOT_FOUND: ETCD.keyNotFound,
  ERR_VALUE_PROVIDED: ETCD.valueProvided,
  ERR_LEASE_PROVIDED: ETCD.leaseProvided,
  ERR_TOO_MANY_OPS: ETCD.tooManyOps,
  ERR_DUPLICATE_KEY: ETCD.duplicateKey,
  ERR_INVALID_SORT: ETCD.invalidSortOption,
  ERR_KEY_TOO_LARGE: ETCD.requestTooLarge,
  ERR_VALUE_TOO_LARGE: ETCD.requestTooLarge,
  ERR_COMPACTED: ETCD.compacted,
  ERR_FUTURE_REV: ETCD.futureRev,
  ERR_LEASE_NOT_FOUND: ETCD.leaseNotFound,
  ERR_LEASE_EXISTS: ETCD.leaseExist,
  ERR_LEASE_TTL_TOO_LARGE: ETCD.leaseTtlTooLarge,
  ERR_CLOSED: ETCD.stopped,
  // The write may or may not be in the log: etcd's "request timed out" says the same.
  ERR_OUTCOME_UNKNOWN: ETCD.timeout,
  ERR_LOG_FAILED: ETCD.stopped,
  ERR_CORRUPT: ETCD.corrupt,
};

/**
 * The wire error for anything a handler threw: a {@link WireError} as it is, a
 * {@link MetaStoreError} by its code (etcd's status and text where etcd has the condition,
 * `metastore: <message>` otherwise), anything else as INTERNAL.
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof WireError) return e;
  if (e instanceof MetaStoreError) {
    const mapped = BY_CODE[e.code];
    if (mapped !== undefined) return mapped;
    switch (e.code) {
      case 'ERR_TXN_TOO_DEEP':
      case 'ERR_INVALID_OPTION':
      case 'ERR_INVALID_TYPE':
      case 'ERR_INVALID_RANGE':
        return new WireError(status.INVALID_ARGUMENT, `metastore: ${e.message}`);
      default:
        return new WireError(status.INTERNAL, `metastore: ${e.code}: ${e.message}`);
    }
  }
  return new WireError(status.INTERNAL, `metastore: internal error: ${e instanceof Error ? e.message : String(e)}`);
}

/** A grpc-js ServiceError (what a unary callback or `call.destroy` takes) for a wire error. */
export function serviceError(e: WireError): Partial<ServiceError> {
  return { code: e.code, details: e.details, message: e.details, metadata: new Metadata() };
}

/** Ends a streaming call with this status (grpc-js sends a stream's status when it emits 'error'). */
export function endStream(call: { emit(event: 'error', error: unknown): boolean }, e: WireError): void {
  call.emit('error', serviceError(e));
}
