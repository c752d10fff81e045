/**
 * Keys and values that cannot be stored as given are refused, not silently changed (issue #13,
 * item 12): a view of a detached ArrayBuffer (it reads as empty) and a string with a lone
 * surrogate (UTF-8 turns it into U+FFFD, so '\uD800' and '\uDFFF' would be one key). Both are
 * ERR_INVALID_TYPE on both engines, wherever a key, a range end or a value is taken.
 */

import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { Bytes } from '../ts/codec/bytes.js';
import type { MetaStore } from '../ts/store.js';
import { op } from '../ts/facade/txn.js';
import { ENGINE_KINDS, storeFactory } from './engines.js';
import { catchAsync, catchSync, show } from './helpers.js';

const openStore = storeFactory();

/** A view whose ArrayBuffer was transferred away (it now reads as empty). */
function detachedUint8Array(): Uint8Array {
  const bytes = new Uint8Array([0x6b, 0x65, 0x79]);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

/** The same for a Buffer (over its own ArrayBuffer: Node's shared pool cannot be transferred). */
function detachedBuffer(): Uint8Array {
  const buffer = new ArrayBuffer(8);
  const bytes = Buffer.from(buffer, 2, 3);
  bytes.write('key');
  structuredClone(buffer, { transfer: [buffer] });
  return bytes;
}

const LONG = 'k'.repeat(100); // past the short-string paths of the encoders

/** Strings with a lone surrogate, through each encoding path (short ASCII loop, long, mixed). */
const LONE_SURROGATES: Array<[string, string]> = [
  ['a lone high surrogate', '\uD800'],
  ['a lone low surrogate', '\uDFFF'],
  ['a high surrogate before an ASCII char', 'a\uD800b'],
  ['a low surrogate after a non-ASCII char', 'é\uDC00'],
  ['pairs in the wrong order', '\uDE00\uD83D'],
  ['a lone surrogate at the end of a long string', `${LONG}\uD800`],
  ['a lone surrogate at the start of a long string', `\uDFFF${LONG}`],
];

/** Every place the façade takes a key, range end or value, as one call each. */
function callsWith(bad: Bytes): Array<[string, (s: MetaStore) => unknown]> {
  return [
    ['put key', (s) => s.put(bad, 'v')],
    ['put value', (s) => s.put('k', bad)],
    ['get', (s) => s.get(bad)],
    ['getString', (s) => s.getString(bad)],
    ['range key', (s) => s.range({ key: bad })],
    ['range prefix', (s) => s.range({ prefix: bad })],
    ['range end', (s) => s.range({ key: 'a', end: bad })],
    ['range fromKey', (s) => s.range({ fromKey: bad })],
    ['delete key', (s) => s.delete(bad)],
    ['delete prefix', (s) => s.delete({ prefix: bad })],
    ['batch put value', (s) => s.batch().put('k', bad)],
    ['batch delete', (s) => s.batch().delete({ start: bad, end: 'z' })],
    ['txn compare key', (s) => s.txn().if(bad, 'version', '==', 0)],
    ['txn compare value', (s) => s.txn().if('k', 'value', '==', bad)],
    ['txn put key', (s) => s.txn().then(op.put(bad, 'v')).commit()],
    ['txn put value', (s) => s.txn({ success: [op.put('k', bad)] })],
    [
      'txn range',
      (s) =>
        s
          .txn()
          .then(op.range({ prefix: bad }))
          .commit(),
    ],
    ['txn delete', (s) => s.txn().then(op.delete(bad)).commit()],
    ['watch key', (s) => s.watch({ key: bad })],
    ['watch prefix', (s) => s.watch({ prefix: bad })],
  ];
}

describe.each(ENGINE_KINDS)('unencodable keys and values are refused (%s engine)', (kind) => {
  describe.each([
    ['a Uint8Array', detachedUint8Array],
    ['a Buffer', detachedBuffer],
  ])('%s over a detached ArrayBuffer', (_, detached) => {
    it.each(callsWith(detached()).map(([name]) => name))('%s: ERR_INVALID_TYPE, nothing written', async (name) => {
      const s = await openStore(kind);
      const act = callsWith(detached()).find(([n]) => n === name)![1];
      const e = await catchAsync(() => act(s));
      expect(e).toMatchObject({ code: 'ERR_INVALID_TYPE' });
      expect((e as Error).message).toMatch(/detached ArrayBuffer/);
      expect([s.revision, s.size]).toEqual([1, 0]);
    });
  });

  describe.each(LONE_SURROGATES)('a string with %s', (_, bad) => {
    it.each(callsWith(bad).map(([name]) => name))('%s: ERR_INVALID_TYPE, nothing written', async (name) => {
      const s = await openStore(kind);
      const act = callsWith(bad).find(([n]) => n === name)![1];
      const e = await catchAsync(() => act(s));
      expect(e).toMatchObject({ code: 'ERR_INVALID_TYPE' });
      expect((e as Error).message).toMatch(/lone surrogate U\+D[89A-F][0-9A-F]{2} at index \d+/);
      expect([s.revision, s.size]).toEqual([1, 0]);
    });
  });

  it("'\\uD800' and '\\uDFFF' no longer collapse into one key (U+FFFD)", async () => {
    const s = await openStore(kind);
    expect((await catchAsync(() => s.put('\uD800', 'high'))).code).toBe('ERR_INVALID_TYPE');
    expect((await catchAsync(() => s.put('\uDFFF', 'low'))).code).toBe('ERR_INVALID_TYPE');
    expect(catchSync(() => s.get('\uDFFF')).code).toBe('ERR_INVALID_TYPE');
    expect(s.size).toBe(0);
  });

  it('the message names the argument and where the surrogate is', async () => {
    const s = await openStore(kind);
    expect((await catchAsync(() => s.put('k', 'ab\uDC01'))).message).toMatch(/^value .*U\+DC01 at index 2/);
    expect((await catchAsync(() => s.put('ab\uD801', 'v'))).message).toMatch(/^key .*U\+D801 at index 2/);
    expect(catchSync(() => s.range({ key: 'a', end: 'é\uD800' })).message).toMatch(/^end .*U\+D800 at index 1/);
  });

  it('well-formed text (surrogate pairs, U+FFFD itself), empty values and live views are stored as given', async () => {
    const s = await openStore(kind);
    const emoji = '😀'; // \uD83D\uDE00: a pair, well formed
    await s.put(emoji, `${LONG}${emoji}`);
    await s.put('\uFFFD', 'replacement char');
    await s.put('é', new Uint8Array(0));
    await s.put('buffer', Buffer.alloc(0));
    // An empty key over a live empty buffer is still ERR_KEY_NOT_PROVIDED, not a type error.
    expect((await catchAsync(() => s.put(new Uint8Array(new ArrayBuffer(0)), 'x'))).code).toBe('ERR_KEY_NOT_PROVIDED');
    expect(s.getString(emoji)).toBe(`${LONG}${emoji}`);
    expect(s.getString('\uFFFD')).toBe('replacement char');
    expect(s.get('é')!.value.length).toBe(0);
    expect(s.range({ prefix: '' }).kvs.map((kv) => show(kv.key))).toEqual(['buffer', 'hex:c3a9', 'hex:efbfbd', 'hex:f09f9880']);
  });

  it('a lone surrogate in a key longer than the native read buffer is refused on get too', async () => {
    const s = await openStore(kind);
    expect(catchSync(() => s.get(`${'k'.repeat(30_000)}\uD800`)).code).toBe('ERR_INVALID_TYPE');
  });
});
