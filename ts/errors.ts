/**
 * Typed errors. Every error the store raises is a {@link MetaStoreError} with a stable `code`;
 * both engines raise the same code for the same input. The numbers are the codec's error numbers
 * (docs/codec.md) and never change meaning.
 */

/** Every error code the store can raise. */
export type ErrorCode =
  | 'ERR_MALFORMED_BATCH'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_KEY_NOT_PROVIDED'
  | 'ERR_KEY_TOO_LARGE'
  | 'ERR_VALUE_TOO_LARGE'
  | 'ERR_INVALID_SORT'
  | 'ERR_VALUE_PROVIDED'
  | 'ERR_LEASE_PROVIDED'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_LEASE_NOT_FOUND'
  | 'ERR_FUTURE_REV'
  | 'ERR_COMPACTED'
  | 'ERR_INTERNAL'
  | 'ERR_TOO_MANY_OPS'
  | 'ERR_DUPLICATE_KEY'
  | 'ERR_LEASE_TTL_TOO_LARGE'
  | 'ERR_LEASE_EXISTS'
  | 'ERR_TXN_TOO_DEEP'
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
export type ErrorCategory = 'InvalidArgument' | 'NotFound' | 'OutOfRange' | 'FailedPrecondition' | 'ResourceExhausted' | 'Internal' | 'Unavailable' | 'DataLoss';

interface ErrorInfo {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly message: string;
}

/** Codec error numbers (docs/codec.md, "Error numbers"), index = number. */
const BY_NUMBER: ReadonlyArray<ErrorInfo | undefined> = [
  undefined,
  { code: 'ERR_MALFORMED_BATCH', category: 'InvalidArgument', message: 'malformed batch' },
  { code: 'ERR_UNSUPPORTED_VERSION', category: 'InvalidArgument', message: 'unsupported codec version' },
  { code: 'ERR_KEY_NOT_PROVIDED', category: 'InvalidArgument', message: 'key is not provided' },
  { code: 'ERR_KEY_TOO_LARGE', category: 'InvalidArgument', message: 'key is larger than maxKeyBytes' },
  { code: 'ERR_VALUE_TOO_LARGE', category: 'InvalidArgument', message: 'value is larger than maxValueBytes' },
  { code: 'ERR_INVALID_SORT', category: 'InvalidArgument', message: 'invalid sort option' },
  { code: 'ERR_VALUE_PROVIDED', category: 'InvalidArgument', message: 'value is provided with ignoreValue' },
  { code: 'ERR_LEASE_PROVIDED', category: 'InvalidArgument', message: 'lease is provided with ignoreLease' },
  { code: 'ERR_KEY_NOT_FOUND', category: 'InvalidArgument', message: 'key not found' },
  { code: 'ERR_LEASE_NOT_FOUND', category: 'NotFound', message: 'requested lease not found' },
  { code: 'ERR_FUTURE_REV', category: 'OutOfRange', message: 'required revision is a future revision' },
  { code: 'ERR_COMPACTED', category: 'OutOfRange', message: 'required revision has been compacted' },
  { code: 'ERR_INTERNAL', category: 'Internal', message: 'internal engine error' },
  { code: 'ERR_TOO_MANY_OPS', category: 'InvalidArgument', message: 'too many operations in txn request' },
  { code: 'ERR_DUPLICATE_KEY', category: 'InvalidArgument', message: 'duplicate key given in txn request' },
  { code: 'ERR_LEASE_TTL_TOO_LARGE', category: 'OutOfRange', message: 'too large lease TTL' },
  { code: 'ERR_LEASE_EXISTS', category: 'FailedPrecondition', message: 'lease already exists' },
  { code: 'ERR_TXN_TOO_DEEP', category: 'InvalidArgument', message: 'txn request is nested too deeply' },
];

/** Error numbers by name, as written into result buffers by both engines. */
export const ErrorNumber = {
  MALFORMED_BATCH: 1,
  UNSUPPORTED_VERSION: 2,
  KEY_NOT_PROVIDED: 3,
  KEY_TOO_LARGE: 4,
  VALUE_TOO_LARGE: 5,
  INVALID_SORT: 6,
  VALUE_PROVIDED: 7,
  LEASE_PROVIDED: 8,
  KEY_NOT_FOUND: 9,
  LEASE_NOT_FOUND: 10,
  FUTURE_REV: 11,
  COMPACTED: 12,
  INTERNAL: 13,
  TOO_MANY_OPS: 14,
  DUPLICATE_KEY: 15,
  LEASE_TTL_TOO_LARGE: 16,
  LEASE_EXISTS: 17,
  TXN_TOO_DEEP: 18,
} as const;
export type ErrorNumber = (typeof ErrorNumber)[keyof typeof ErrorNumber];

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
