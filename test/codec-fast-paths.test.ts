/**
 * The codec's fast paths give what the general code gives: plain puts and deletes validated
 * without a DataView (same errors, same op index, wherever the bad op sits), short strings
 * encoded char by char (same UTF-8 as TextEncoder), short byte strings copied by a loop, and
 * batch results read through a shared view of their slab (both engines).
 */

import { describe, expect, it } from 'vitest';
import { toBytes } from '../ts/codec/bytes.js';
import { BatchWriter, validateBatch } from '../ts/codec.js';
import { OpType } from '../ts/codec/constants.js';
import { ENGINE_KINDS, engineFactory } from './engines.js';
import { rangeOp } from './helpers.js';

const newEngine = engineFactory();

function codeAndIndex(f: () => unknown): { code: string; opIndex: number | undefined } | 'passed' {
  try {
    f();
    return 'passed';
  } catch (e) {
    const err = e as { code: string; opIndex?: number };
    return { code: err.code, opIndex: err.opIndex };
  }
}

/** The bytes of a batch holding `ops` (written by `write`), with `patch` applied to the bytes of the last op. */
function batchWith(write: (w: BatchWriter) => void, patch?: (bytes: Uint8Array, lastOpAt: number) => void): Uint8Array {
  const w = new BatchWriter();
  w.put('ok1', 'v').deleteRange('ok2');
  const lastOpAt = w.byteLength;
  write(w);
  const bytes = w.finish();
  patch?.(bytes, lastOpAt);
  return bytes;
}

describe('validation of plain puts and deletes', () => {
  const limits = { maxKeyBytes: 8, maxValueBytes: 16 };
  const cases: Array<[string, string, (w: BatchWriter) => void, ((b: Uint8Array, at: number) => void)?]> = [
    ['an empty key', 'ERR_KEY_NOT_PROVIDED', (w) => w.put('', 'v')],
    ['a key over the limit', 'ERR_KEY_TOO_LARGE', (w) => w.put('123456789', 'v')],
    ['a value over the limit', 'ERR_VALUE_TOO_LARGE', (w) => w.put('k', 'x'.repeat(17))],
    ['a value with ignoreValue', 'ERR_VALUE_PROVIDED', (w) => w.put('k', 'v', { ignoreValue: true })],
    ['a lease with ignoreLease', 'ERR_LEASE_PROVIDED', (w) => w.put('k', 'v', { lease: 5, ignoreLease: true })],
    ['an undefined put flag', 'ERR_MALFORMED_BATCH', (w) => w.put('k', 'v'), (b, at) => void (b[at + 1] = 0x80)],
    ['a lease that is not a safe integer', 'ERR_MALFORMED_BATCH', (w) => w.put('k', 'v'), (b, at) => b.fill(0x7f, at + 2, at + 10)],
    ['a negative lease past the safe range', 'ERR_MALFORMED_BATCH', (w) => w.put('k', 'v'), (b, at) => b.fill(0x80, at + 2, at + 10)],
    ['a put longer than the batch', 'ERR_MALFORMED_BATCH', (w) => w.put('k', 'v'), (b, at) => void (b[at + 14] = 200)],
    ['a delete of an empty key', 'ERR_KEY_NOT_PROVIDED', (w) => w.deleteRange('')],
    ['a delete key over the limit', 'ERR_KEY_TOO_LARGE', (w) => w.deleteRange('123456789')],
    ['an undefined delete flag', 'ERR_MALFORMED_BATCH', (w) => w.deleteRange('k'), (b, at) => void (b[at + 1] = 2)],
    ['a delete longer than the batch', 'ERR_MALFORMED_BATCH', (w) => w.deleteRange('k'), (b, at) => void (b[at + 6] = 9)],
    ['an unknown op type', 'ERR_MALFORMED_BATCH', (w) => w.deleteRange('k'), (b, at) => void (b[at] = 9)],
  ];
  it.each(cases)('refuses %s with %s and the op index of the full check', (_, code, write, patch) => {
    const bytes = batchWith(write, patch);
    const got = codeAndIndex(() => validateBatch(bytes, limits));
    expect(got).toEqual({ code, opIndex: 2 });
    // The same op alone, first in its batch, fails the same way at index 0.
    const alone = new BatchWriter();
    write(alone);
    const single = alone.finish();
    const opAt = 8;
    patch?.(single, opAt);
    expect(codeAndIndex(() => validateBatch(single, limits))).toEqual({ ...(got as object), opIndex: 0 });
  });

  it('accepts what the full check accepts: leases at the safe bounds, flags, empty values', () => {
    const w = new BatchWriter()
      .put('a', 'v', { lease: Number.MAX_SAFE_INTEGER })
      .put('b', 'v', { lease: -Number.MAX_SAFE_INTEGER })
      .put('c', '', { ignoreValue: true, ignoreLease: true, prevKv: true })
      .deleteRange('d', 'e', true)
      .deleteRange('f');
    expect(validateBatch(w.finish())).toBe(5);
  });

  it('a plain op after any other op is checked fully, and a short delete at the end passes', () => {
    const w = new BatchWriter().compact(1).put('', 'v');
    expect(codeAndIndex(() => validateBatch(w.finish()))).toEqual({ code: 'ERR_KEY_NOT_PROVIDED', opIndex: 1 });
    const d = new BatchWriter().deleteRange('k').finish();
    expect(d[8]).toBe(OpType.DELETE_RANGE);
    expect(validateBatch(d)).toBe(1);
  });
});

describe('string encoding', () => {
  it.each(['', 'k', 'key-0000000001', 'é', 'aé', 'abcé€😀x', '😀', 'x'.repeat(19) + '😀', 'y'.repeat(20), 'z'.repeat(21) + 'é'])(
    'writes %j as TextEncoder does',
    (s) => {
      const bytes = new BatchWriter(64).put(s, s).finish();
      const keyLen = new DataView(bytes.buffer).getUint32(8 + 10, true);
      const utf8 = new TextEncoder().encode(s);
      expect(keyLen).toBe(utf8.length);
      expect(Array.from(bytes.subarray(8 + 18, 8 + 18 + keyLen))).toEqual(Array.from(utf8));
      expect(Array.from(bytes.subarray(8 + 18 + keyLen))).toEqual(Array.from(utf8));
    },
  );

  // TextEncoder would write U+FFFD for a lone surrogate, so different strings would be one key.
  it.each(['a\ud800b', 'ab\udc00', '\udc00' + 'x'.repeat(30), 'x'.repeat(30) + '\ud800'])(
    'refuses %j (a lone surrogate) as key and as value, short or long',
    (s) => {
      expect(() => new BatchWriter(64).put(s, 'v')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE', message: expect.stringMatching(/^key /) }));
      expect(() => new BatchWriter(64).put('k', s)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE', message: expect.stringMatching(/^value /) }));
    },
  );
});

describe('toBytes', () => {
  // Around the short-ASCII loop's limit (64 chars) and with a non-ASCII char early, late or last.
  it.each(['', 'k', 'é', 'aé', '😀', 'x'.repeat(63) + 'é', 'x'.repeat(64), 'é' + 'x'.repeat(63), 'x'.repeat(65), 'y'.repeat(64) + '😀'])(
    'encodes %j as TextEncoder does, into an array of its own',
    (s) => {
      const bytes = toBytes(s);
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
      expect(Array.from(bytes)).toEqual(Array.from(new TextEncoder().encode(s)));
      // Its own memory, all of it: not a view into a shared pool.
      expect([bytes.byteOffset, bytes.buffer.byteLength]).toEqual([0, bytes.length]);
    },
  );

  it.each(['a\ud800b', 'x'.repeat(70) + '\udfff'])('refuses %j (a lone surrogate) with ERR_INVALID_TYPE', (s) => {
    expect(() => toBytes(s)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE' }));
  });

  it('hands bytes over as they are and refuses anything else with ERR_INVALID_TYPE', () => {
    const b = Uint8Array.of(1, 2);
    expect(toBytes(b)).toBe(b);
    expect(() => toBytes(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TYPE' }));
  });
});

describe('byte keys and values in a batch', () => {
  // Short ones are copied by a loop, longer ones by set(): both around the limit (32 bytes).
  it.each([0, 1, 31, 32, 33, 200])('writes a %i-byte key and value as given', (n) => {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
    const key = n === 0 ? Uint8Array.of(7) : data;
    const bytes = new BatchWriter(16).put(key, data).finish();
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(8 + 10, true)).toBe(key.length);
    expect(view.getUint32(8 + 14, true)).toBe(n);
    expect(Array.from(bytes.subarray(8 + 18, 8 + 18 + key.length))).toEqual(Array.from(key));
    expect(Array.from(bytes.subarray(8 + 18 + key.length))).toEqual(Array.from(data));
  });
});

describe.each(ENGINE_KINDS)('batch results one after another (%s engine)', (kind) => {
  it('each result reads its own ops, prevKvs and events, also after later batches', () => {
    const e = newEngine(kind);
    const results = [];
    for (let i = 0; i < 50; i++) {
      const w = new BatchWriter().put(`k${i % 5}`, `v${i}`, { prevKv: true }).deleteRange(`gone${i}`);
      results.push(e.applyBatch(w.finish(), 2));
    }
    const big = e.applyBatch(new BatchWriter().put('big', 'x'.repeat(300_000), { prevKv: true }).finish(), 2);
    for (let i = 0; i < 50; i++) {
      const r = results[i]!;
      expect(r.size).toBe(2);
      expect(r.revision).toBe(i + 2);
      const put = r.result(0);
      expect(put).toMatchObject({ type: 'put', revision: i + 2 });
      if (i >= 5) expect(new TextDecoder().decode((put as { prevKv: { value: Uint8Array } }).prevKv.value)).toBe(`v${i - 5}`);
      expect(r.result(1)).toMatchObject({ type: 'deleteRange', deleted: 0 });
      expect(r.events().map((ev) => [ev.type, new TextDecoder().decode(ev.kv.key), ev.kv.modRevision])).toEqual([['put', `k${i % 5}`, i + 2]]);
    }
    expect(big.result(0)).toMatchObject({ type: 'put', revision: 52 });
    expect(big.events()[0]!.kv.value.length).toBe(300_000);
  });
});

describe.each(ENGINE_KINDS)('keys and values handed out (%s engine)', (kind) => {
  const plain = (b: Uint8Array): boolean => Object.getPrototypeOf(b) === Uint8Array.prototype;

  it('are plain Uint8Arrays holding their own bytes, from small results and from ones too large for the scratch buffer', () => {
    const e = newEngine(kind);
    const w = new BatchWriter();
    w.put('small', 'v'.repeat(100));
    w.put('large', 'x'.repeat(300_000));
    for (let i = 0; i < 2000; i++) w.put(`many/${String(i).padStart(4, '0')}`, 'w'.repeat(100));
    const r = e.applyBatch(w.finish(), 1);
    const events = r.events();
    expect(events.length).toBe(2002);
    const reads = [e.get(new TextEncoder().encode('small'))!, e.get(new TextEncoder().encode('large'))!, ...events.map((ev) => ev.kv)];
    const all = e.range(rangeOp('many/', { rangeEnd: 'many0' }));
    expect(all.kvs.length).toBe(2000);
    for (const kv of [...reads, ...all.kvs]) {
      expect(plain(kv.key) && plain(kv.value)).toBe(true);
      // Exactly the key's and value's bytes, whatever the buffer behind them.
      expect(kv.key.length).toBeGreaterThan(0);
    }
    expect(new TextDecoder().decode(reads[1]!.value)).toBe('x'.repeat(300_000));
    expect(all.kvs.map((kv) => new TextDecoder().decode(kv.key))).toEqual(Array.from({ length: 2000 }, (_, i) => `many/${String(i).padStart(4, '0')}`));
    expect(all.kvs.every((kv) => kv.value.length === 100 && kv.value.every((c) => c === 0x77))).toBe(true);
  });
});
