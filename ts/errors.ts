/**
 * Typed errors. Every error the store raises is a {@link MetaStoreError} with a stable `code`;
 * both engines raise the same code for the same input. The numbers are the codec's error numbers
 * (declared in formats/errors.mjs, generated into ./codec/error-numbers.ts) and never change meaning.
 */

import { ERROR_INFO, type NumberedErrorCode } from './codec/error-numbers.js';

export { ErrorNumber } from './codec/error-numbers.js';

/** Every error code the store can raise: the codec's numbered ones, then the façade's own. */
export type ErrorCode =
  | NumberedErrorCode
  | 'ERR_INVALID_TYPE'
  | 'ERR_INVALID_RANGE'
  | 'ERR_INVALID_OPTION'
  | 'ERR_WATCH_OVERFLOW'
  | 'ERR_CLOSED'
  | 'ERR_NATIVE_UNAVAILABLE'
  | 'ERR_OUTCOME_UNKNOWN'
  | 'ERR_LOG_FAILED'
  | 'ERR_CORRUPT'
  | 'ERR_LOCKED';

/** The etcd (gRPC status) category an error belongs to, for callers that map to etcd's API. */
export type ErrorCategory =
  | 'InvalidArgument'
  | 'NotFound'
  | 'OutOfRange'
  | 'FailedPrecondition'
  | 'ResourceExhausted'
  | 'Internal'
  | 'Unavailable'
  | 'DataLoss';

interface ErrorInfo {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly message: string;
}

/** Codec error numbers (formats/errors.mjs, docs/formats.md), index = number. */
const BY_NUMBER: ReadonlyArray<ErrorInfo | undefined> = ERROR_INFO;

const CATEGORY_OF: Partial<Record<ErrorCode, ErrorCategory>> = {
  ERR_INVALID_TYPE: 'InvalidArgument',
  ERR_INVALID_RANGE: 'InvalidArgument',
  ERR_INVALID_OPTION: 'InvalidArgument',
  ERR_CLOSED: 'Unavailable',
  ERR_WATCH_OVERFLOW: 'ResourceExhausted',
  ERR_NATIVE_UNAVAILABLE: 'Unavailable',
  ERR_OUTCOME_UNKNOWN: 'Unavailable',
  ERR_LOG_FAILED: 'Unavailable',
  ERR_CORRUPT: 'DataLoss',
  ERR_LOCKED: 'FailedPrecondition',
};

/** Marks MetaStore errors across copies of the package (see {@link MetaStoreError}). */
const BRAND: unique symbol = Symbol.for('@metastore/core.MetaStoreError');

/** Base class of every error raised by MetaStore. Switch on `code`, not on the message. */
export class MetaStoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The etcd status category (InvalidArgument, NotFound, OutOfRange, ...). */
  readonly category: ErrorCategory;
  /** Index of the op in its batch that caused the error, when it came from a batch (−1: the batch itself). */
  readonly opIndex: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { opIndex?: number; cause?: unknown; category?: ErrorCategory }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MetaStoreError';
    this.code = code;
    this.category = options?.category ?? CATEGORY_OF[code] ?? categoryOfCode(code);
    this.opIndex = options?.opIndex;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * `instanceof MetaStoreError` holds for errors of every copy of this package loaded in the
   * process (the ESM and the CommonJS build are two copies): they share a registered symbol.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

function categoryOfCode(code: ErrorCode): ErrorCategory {
  for (const info of BY_NUMBER) if (info?.code === code) return info.category;
  return 'InvalidArgument';
}

/**
 * The error for a codec error number, as both engines report it. `opIndex` is the op that failed
 * (−1: the batch header), `detail` an optional extra sentence (never part of the code).
 */
export function errorFromNumber(num: number, opIndex?: number, detail?: string): MetaStoreError {
  const info = BY_NUMBER[num];
  if (info === undefined) {
    return new MetaStoreError('ERR_INTERNAL', `engine reported unknown error number ${num}`, { opIndex });
  }
  let message = info.message;
  if (opIndex !== undefined) message += opIndex < 0 ? ' (batch header)' : ` (op ${opIndex})`;
  if (detail) message += `: ${detail}`;
  return new MetaStoreError(info.code, message, { opIndex, category: info.category });
}

/** `error` labelled with another op index (a proposal's ops are numbered from 0 within it, not within the log entry that carried them). */
export function withOpIndex(error: MetaStoreError, opIndex: number): MetaStoreError {
  if (error.opIndex === opIndex || error.opIndex === undefined || error.opIndex < 0) return error;
  const message = error.message.replace(/\(op \d+\)/, `(op ${opIndex})`);
  return new MetaStoreError(error.code, message, { opIndex, category: error.category, cause: error.cause });
}

/** The codec error number of a code, or undefined for façade-only codes. */
export function numberOfCode(code: ErrorCode): number | undefined {
  const n = BY_NUMBER.findIndex((info) => info?.code === code);
  return n < 0 ? undefined : n;
}
