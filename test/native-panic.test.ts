// A Rust panic inside the addon becomes a typed JS error wherever it happens (an export, an async
// task, the log's writer thread); the process and other stores live on.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../ts/load-native.js';
import { translateNativeError } from '../ts/engines/native-engine.js';
import { MetaStore } from '../ts/store.js';
import { testHooks } from './native-hooks.js';

const root = mkdtempSync(join(tmpdir(), 'metastore-panic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every `#[napi(…)]` function of the binding's sources: its JS name and the attribute's arguments. */
function declaredExports(): Map<string, string> {
  const src = new URL('../crates/metastore-napi/src/', import.meta.url);
  const declared = new Map<string, string>();
  for (const file of readdirSync(src).filter((f) => f.endsWith('.rs'))) {
    const text = readFileSync(new URL(file, src), 'utf8');
    // The attribute (over several lines when rustfmt wraps it), then any other attributes and
    // comments, then the function.
    for (const m of text.matchAll(/^#\[napi(?:\(([\s\S]*?)\))?\]\n(?:\s*(?:#\[.*\]|\/\/.*)\n)*pub fn (\w+)/gm)) {
      declared.set(
        m[2]!.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
        m[1] ?? '',
      );
    }
  }
  return declared;
}

describe('native panics', () => {
  it('every export of the binding is declared with catch_unwind', () => {
    const binding = loadNative() as unknown as Record<string, unknown>;
    const exported = Object.keys(binding).filter((name) => typeof binding[name] === 'function');
    const declared = declaredExports();
    expect(exported.length).toBeGreaterThan(20);
    // Each export found in the sources, so none escapes the check below.
    expect(exported.filter((name) => !declared.has(name))).toEqual([]);
    expect(exported.filter((name) => !/\bcatch_unwind\b/.test(declared.get(name)!))).toEqual([]);
  });

  it('one in an export reaches JS as ERR_INTERNAL and leaves the process and other stores working', async () => {
    const store = await MetaStore.open({ engine: 'native' });
    await store.put('k', 'v');
    let caught: unknown;
    try {
      testHooks().debugPanic();
    } catch (e) {
      caught = translateNativeError(e);
    }
    expect(caught).toMatchObject({ code: 'ERR_INTERNAL' });
    expect((caught as Error).message).toMatch(/deliberate panic/);
    expect(store.getString('k')).toBe('v');
    expect((await store.put('k', 'w')).revision).toBe(3);
    await store.close();
  });

  it('one in a snapshot task rejects it: the durable store stops on that ERR_INTERNAL, and a reopen recovers', async () => {
    const path = join(root, 'task');
    const store = await MetaStore.open({ path, engine: 'native', snapshotEveryBytes: 1 });
    testHooks().debugPanicIn('task');
    await store.put('a', '1'); // durable, then applied: the snapshot after it panics
    const log = (store as unknown as { writes: { log: { snapshotting?: Promise<void> } } }).writes.log;
    await log.snapshotting;
    // As after any failed snapshot: the log takes no more writes, the cause says why.
    const refused = await store.put('b', '2').catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'ERR_OUTCOME_UNKNOWN',
      cause: { code: 'ERR_INTERNAL', message: expect.stringMatching(/deliberate panic for tests \(task\)/) },
    });
    await expect(store.put('c', '3')).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    expect(store.getString('a')).toBe('1');
    await store.close();
    const again = await MetaStore.open({ path, engine: 'native' });
    expect([again.getString('a'), again.get('b')]).toEqual(['1', undefined]);
    await again.close();
  });

  it('one in the log writer thread fails the appends it was writing, stops the log, and a reopen recovers', async () => {
    const path = join(root, 'writer');
    const store = await MetaStore.open({ path, engine: 'native' });
    await store.put('before', '1');
    testHooks().debugPanicIn('writer');
    await expect(store.put('during', '2')).rejects.toMatchObject({
      code: 'ERR_OUTCOME_UNKNOWN',
      message: expect.stringMatching(/the log writer panicked: deliberate panic for tests \(writer\)/),
    });
    await expect(store.put('after', '3')).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    await store.close();
    const again = await MetaStore.open({ path, engine: 'native' });
    expect([again.getString('before'), again.get('after')]).toEqual(['1', undefined]);
    await again.close();
  });
});
