/**
 * The caller's bytes are input only (issue #13, item 11): every call that takes a key, a prefix,
 * a range end or a value leaves the caller's memory as it was and keeps no view of it. Each
 * test runs with keys given as a string, a Uint8Array, a Buffer (whose `slice` is a view, not a
 * copy), and views into the middle of larger Buffers and Uint8Arrays (non-zero byteOffset).
 */

import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { prefixEnd, type Bytes } from '../ts/codec/bytes.js';
import type { MetaStore } from '../ts/store.js';
import { op } from '../ts/facade/txn.js';
import type { WatchResponse } from '../ts/watch/watcher.js';
import { ENGINE_KINDS, storeFactory } from './engines.js';
import { show } from './helpers.js';

const openStore = storeFactory();
const utf8 = new TextEncoder();
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How a test hands its keys and values over. */
type Form = 'string' | 'Uint8Array' | 'Buffer' | 'Buffer subarray' | 'Uint8Array subarray';
const FORMS: Form[] = ['string', 'Uint8Array', 'Buffer', 'Buffer subarray', 'Uint8Array subarray'];

/**
 * Makes arguments in one form and remembers, for each, the whole memory it lives in (for a
 * view, the larger buffer around it) with a copy of its contents, to check afterwards.
 */
class Caller {
  private readonly given: Array<{ text: string; whole: Uint8Array; before: Uint8Array; arg: Uint8Array }> = [];

  constructor(readonly form: Form) {}

  bytes(text: string): Bytes {
    if (this.form === 'string') return text;
    let whole: Uint8Array;
    let arg: Uint8Array;
    const encoded = utf8.encode(text);
    switch (this.form) {
      case 'Uint8Array':
        arg = whole = encoded;
        break;
      case 'Buffer':
        arg = whole = Buffer.from(encoded);
        break;
      case 'Buffer subarray':
        whole = Buffer.concat([Buffer.from('<<<'), encoded, Buffer.from('>>>')]);
        arg = whole.subarray(3, 3 + encoded.length);
        break;
      case 'Uint8Array subarray':
        whole = new Uint8Array([0x3c, 0x3c, ...encoded, 0x3e, 0x3e]);
        arg = whole.subarray(2, 2 + encoded.length);
        break;
    }
    this.given.push({ text, whole, before: whole.slice(), arg });
    return arg;
  }

  /** Arguments whose memory changed since they were made (as `text: now`); empty when none did. */
  changed(): string[] {
    const out: string[] = [];
    for (const g of this.given) {
      if (Buffer.compare(Buffer.from(g.whole), Buffer.from(g.before)) !== 0) out.push(`${g.text}: ${show(g.whole)}`);
    }
    return out;
  }
}

async function seed(s: MetaStore): Promise<void> {
  for (const k of ['w/a', 'w/b', 'w/c', 'x/a']) await s.put(k, `v-${k}`);
}

const keysOf = (r: { kvs: Array<{ key: Uint8Array }> }): string[] => r.kvs.map((kv) => show(kv.key));

describe('prefixEnd', () => {
  it.each(FORMS.filter((f) => f !== 'string'))('of a %s: new memory, the prefix unchanged', (form) => {
    const c = new Caller(form);
    const prefix = c.bytes('w/') as Uint8Array;
    const end = prefixEnd(prefix);
    expect(show(end)).toBe('w0');
    expect(end.buffer).not.toBe(prefix.buffer);
    expect(c.changed()).toEqual([]);
  });
});

describe.each(ENGINE_KINDS)("the caller's bytes are never written to (%s engine)", (kind) => {
  describe.each(FORMS)('keys given as %s', (form) => {
    it('put, get and getString', async () => {
      const s = await openStore(kind);
      const c = new Caller(form);
      expect(await s.put(c.bytes('w/a'), c.bytes('one'))).toEqual({ revision: 2 });
      expect(s.getString(c.bytes('w/a'))).toBe('one');
      const kv = s.get(c.bytes('w/a'))!;
      expect([show(kv.key), show(kv.value), kv.version]).toEqual(['w/a', 'one', 1]);
      expect(c.changed()).toEqual([]);
    });

    it('range by key, prefix, start + end, key + end and fromKey', async () => {
      const s = await openStore(kind);
      await seed(s);
      const c = new Caller(form);
      expect(keysOf(s.range({ key: c.bytes('w/b') }))).toEqual(['w/b']);
      expect(keysOf(s.range({ prefix: c.bytes('w/') }))).toEqual(['w/a', 'w/b', 'w/c']);
      expect(keysOf(s.range({ prefix: c.bytes('w') }))).toEqual(['w/a', 'w/b', 'w/c']);
      expect(keysOf(s.range({ start: c.bytes('w/b'), end: c.bytes('x/a') }))).toEqual(['w/b', 'w/c']);
      expect(keysOf(s.range({ key: c.bytes('w/a'), end: c.bytes('w/c') }))).toEqual(['w/a', 'w/b']);
      expect(keysOf(s.range({ fromKey: c.bytes('w/c') }))).toEqual(['w/c', 'x/a']);
      expect(s.range({ prefix: c.bytes('w/'), countOnly: true }).count).toBe(3);
      expect(c.changed()).toEqual([]);
    });

    it('delete by key, prefix and start + end', async () => {
      const s = await openStore(kind);
      await seed(s);
      const c = new Caller(form);
      expect((await s.delete(c.bytes('x/a'))).deleted).toBe(1);
      expect((await s.delete({ start: c.bytes('w/c'), end: c.bytes('w/d') })).deleted).toBe(1);
      expect((await s.delete({ prefix: c.bytes('w/') })).deleted).toBe(2);
      expect(s.size).toBe(0);
      expect(c.changed()).toEqual([]);
    });

    it('a batch of puts and deletes', async () => {
      const s = await openStore(kind);
      await seed(s);
      const c = new Caller(form);
      const out = await s
        .batch()
        .put(c.bytes('y/a'), c.bytes('new'))
        .delete({ prefix: c.bytes('w/') })
        .commit();
      expect(out).toMatchObject([{ revision: 6 }, { deleted: 3 }]);
      expect(keysOf(s.range({ fromKey: '\0' }))).toEqual(['x/a', 'y/a']);
      expect(c.changed()).toEqual([]);
    });

    it('txn compares (key, prefix, key + end) and ops (put, get, range, delete)', async () => {
      const s = await openStore(kind);
      await seed(s);
      const c = new Caller(form);
      const r = await s
        .txn()
        .if(c.bytes('w/a'), 'value', '==', c.bytes('v-w/a'))
        .if({ prefix: c.bytes('w/') }, 'version', '==', 1)
        .if({ key: c.bytes('w/a'), end: c.bytes('w/c') }, 'create', '<', 5)
        .then(op.put(c.bytes('w/d'), c.bytes('four')), op.get(c.bytes('w/b')), op.range({ prefix: c.bytes('w/') }), op.delete({ prefix: c.bytes('x') }))
        .else(op.put(c.bytes('failed'), c.bytes('yes')))
        .commit();
      expect(r.succeeded).toBe(true);
      expect(r.responses.map((x) => (x.type === 'range' ? keysOf(x) : x.type === 'delete' ? x.deleted : x.type))).toEqual([
        'put',
        ['w/b'],
        ['w/a', 'w/b', 'w/c', 'w/d'],
        1,
      ]);
      const plain = await s.txn({
        compare: [{ prefix: c.bytes('w/'), target: 'value', result: '!=', value: c.bytes('') }],
        success: [{ delete: { key: c.bytes('w/d'), end: c.bytes('w/e') } }],
      });
      expect(plain.responses).toMatchObject([{ type: 'delete', deleted: 1 }]);
      expect(c.changed()).toEqual([]);
    });

    it('watch by prefix and by key + end fire, and the watcher keeps a copy of its selector', async () => {
      const s = await openStore(kind);
      const c = new Caller(form);
      const prefix = c.bytes('w/');
      const byPrefix = s.watch({ prefix });
      const byRange = s.watch({ key: c.bytes('w/a'), end: c.bytes('w/c') });
      const fromKey = s.watch({ fromKey: c.bytes('w/b') });
      const seen: Record<string, string[]> = { byPrefix: [], byRange: [], fromKey: [] };
      for (const [name, w] of Object.entries({ byPrefix, byRange, fromKey })) {
        w.on('data', (r: WatchResponse) => seen[name]!.push(...r.events.map((e) => show(e.kv.key))));
      }
      expect(c.changed()).toEqual([]);
      // The caller reuses its memory: what the watchers watch does not change.
      if (prefix instanceof Uint8Array) prefix.fill(0x7a);
      for (const k of ['w/a', 'w/b', 'w/c', 'x/a', 'zz']) await s.put(k, 'v');
      await tick();
      expect(seen).toEqual({ byPrefix: ['w/a', 'w/b', 'w/c'], byRange: ['w/a', 'w/b'], fromKey: ['w/b', 'w/c', 'x/a', 'zz'] });
      expect([show(byPrefix.key), show(byPrefix.rangeEnd)]).toEqual(['w/', 'w0']);
      for (const w of [byPrefix, byRange, fromKey]) w.cancel();
    });

    it('a put attached to a lease, and the lease revoke that deletes it', async () => {
      const s = await openStore(kind);
      const c = new Caller(form);
      const { id } = await s.lease.grant(60);
      await s.put(c.bytes('w/leased'), c.bytes('tmp'), { lease: id });
      expect(s.get(c.bytes('w/leased'))!.lease).toBe(id);
      expect(s.lease.timeToLive(id, { keys: true }).keys!.map(show)).toEqual(['w/leased']);
      await s.lease.revoke(id);
      expect(s.range({ prefix: c.bytes('w/') }).count).toBe(0);
      expect(c.changed()).toEqual([]);
    });
  });
});
