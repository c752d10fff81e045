/**
 * Errors from the native binding, made typed. The binding raises them in one format
 * (crates/metastore-napi/src/errors.rs): `MSERR:<code>:<opIndex>:<message>`, `<code>` being a
 * codec error number (docs/codec.md) or an `ERR_*` code name. Anything else — a panic caught by
 * napi-rs, say — is ERR_INTERNAL.
 */

import { errorFromNumber, MetaStoreError, type ErrorCode } from '../errors.js';

const FORMAT = /^MSERR:(\d+|ERR_[A-Z_]+):(-?\d+):([\s\S]*)$/;

/**
 * The typed error for what the binding threw. `withOpIndex`: keep the op index a codec error
 * names (batch calls); `context` prefixes an error outside the format ('native engine', 'durable log').
 */
export function translateBindingError(e: unknown, options: { withOpIndex?: boolean; context?: string } = {}): MetaStoreError {
  if (e instanceof MetaStoreError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const m = FORMAT.exec(message);
  if (m === null) return new MetaStoreError('ERR_INTERNAL', `${options.context ?? 'native engine'}: ${message}`, { cause: e });
  const [, code, op, detail] = m;
  if (code!.startsWith('ERR_')) return new MetaStoreError(code as ErrorCode, detail!, { cause: e });
  return errorFromNumber(Number(code), options.withOpIndex === false ? undefined : Number(op), detail || undefined);
}
