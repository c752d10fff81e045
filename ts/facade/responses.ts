/**
 * The façade's responses, shaped from the engine's op results: one-op shapes applied by the apply
 * loop as it settles a caller (a throw rejects that caller), and the plain etcd-style objects.
 */

import type { CompactResponse, DeleteRangeResult, DeleteResponse, OpResult, PutResponse, PutResult, RangeResponse, RangeResult } from '../types.js';

export function unwrap<T extends OpResult>(result: OpResult): Exclude<T, { type: 'error' }> {
  if (result.type === 'error') throw result.error;
  return result as Exclude<T, { type: 'error' }>;
}

export function toPutResponse(r: PutResult): PutResponse {
  return r.prevKv === undefined ? { revision: r.revision } : { revision: r.revision, prevKv: r.prevKv };
}

export function toDeleteResponse(r: DeleteRangeResult): DeleteResponse {
  return { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs };
}

export const putResponseOf = (r: OpResult): PutResponse => toPutResponse(unwrap<PutResult>(r));
export const deleteResponseOf = (r: OpResult): DeleteResponse => toDeleteResponse(unwrap<DeleteRangeResult>(r));
export const opResultOf = (r: OpResult): OpResult => r;
export const autoCompactionDone = (r: OpResult): void => {
  if (r.type === 'error' && r.error.code !== 'ERR_COMPACTED') throw r.error;
};
export const compactResponseOf = (r: OpResult): CompactResponse => {
  if (r.type === 'error') throw r.error;
  return { revision: r.revision };
};

export function toRangeResponse(r: RangeResult): RangeResponse {
  return { revision: r.revision, kvs: r.kvs, more: r.more, count: r.count };
}
