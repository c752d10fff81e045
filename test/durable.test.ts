/** Durable mode (`MetaStore.open({ path })`, native engine): restart, snapshots, damage, failures. */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { MetaStoreError } from '../ts/errors.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import { nkv, show } from './helpers.js';
import { editFile, lastSegment, manifestEpoch, records, TYPE_COMMIT, TYPE_ENTRIES } from './wal-files.js';
import { failNextAppend } from './native-hooks.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'metastore-durable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newPath = () => join(root, `s${dirs++}`);

const opened: MetaStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
async function open(path: string, options: OpenOptions = {}): Promise<MetaStore> {
  const s = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0, ...options });
  opened.push(s);
  return s;
}
async function reopen(s: MetaStore, path: string, options: OpenOptions = {}): Promise<MetaStore> {
  await s.close();
  return open(path, options);
}

/** Everything a client can see: revisions, every key at every retained revision, leases. */
function observe(s: MetaStore) {
  const history: Record<number, unknown> = {};
  for (let rev = Math.max(s.compactRevision, 1); rev <= s.revision; rev++) history[rev] = s.range({ prefix: '', revision: rev }).kvs.map(nkv);
  const leases = s.lease
    .list()
    .map((id) => ({ id, granted: s.lease.timeToLive(id, { keys: true }).grantedTTL, keys: s.lease.timeToLive(id, { keys: true }).keys?.map(show) }));
  return { revision: s.revision, compactRevision: s.compactRevision, size: s.size, history, leases };
}

async function someWrites(s: MetaStore, n: number, prefix = 'k'): Promise<void> {
  const { id } = await s.lease.grant(600);
  await Promise.all(Array.from({ length: n }, (_, i) => s.put(`${prefix}${i % 37}`, `v${i}`, i % 5 === 0 ? { lease: id } : undefined)));
  await s.delete({ prefix: `${prefix}1` });
  await s
    .txn()
    .if(`${prefix}2`, 'version', '>', 0)
    .then({ put: { key: `${prefix}2`, value: 'txn' } })
    .commit();
}

describe('durable store (native engine)', () => {
  it('a reopened store shows exactly what it showed before: data, history, leases, compaction', async () => {
    const path = newPath();
    let s = await open(path);
    expect(s.durability).toBe('file');
    await someWrites(s, 200);
    await s.compact(s.revision - 20);
    await someWrites(s, 50, 'j');
    const before = observe(s);
    s = await reopen(s, path);
    expect(observe(s)).toEqual(before);
    // And it goes on from there.
    const r = await s.put('after', 'restart');
    expect(r.revision).toBe(before.revision + 1);
  });

  it('snapshots bound the log: old segments go, restart = snapshot + tail', async () => {
    const path = newPath();
    const options = { snapshotEveryBytes: 16 * 1024, walSegmentBytes: 64 * 1024 };
    let s = await open(path, options);
    for (let round = 0; round < 40; round++) await someWrites(s, 100, `r${round % 4}/`);
    const before = observe(s);
    // Closing waits for a snapshot still being written, and for the purge that follows it.
    await s.close();
    const segmentFirsts = readdirSync(join(path, 'wal'))
      .filter((f) => f.endsWith('.wal'))
      .map((f) => parseInt(f.slice(17, 33), 16))
      .sort((a, b) => a - b);
    const snapshots = readdirSync(join(path, 'snap'))
      .filter((f) => f.endsWith('.snap'))
      .map((f) => parseInt(f.slice(0, 16), 16))
      .sort((a, b) => a - b);
    expect(snapshots.length).toBe(2);
    // The log is kept from just after the older snapshot, so it can stand in for a damaged newer one:
    // only the segment holding that point may start at or before it.
    // (How early the older snapshot lands depends on how fast the background passes ran, so
    // whether the very first segment is gone too is not fixed.)
    expect(segmentFirsts[0]).toBeLessThanOrEqual(snapshots[0]! + 1);
    for (const first of segmentFirsts.slice(1)) expect(first).toBeGreaterThan(snapshots[0]! + 1);
    // Without purging, 40 rounds of ~10 KiB would need 7+ segments of 64 KiB.
    expect(segmentFirsts.length).toBeLessThanOrEqual(3);
    s = await open(path, options);
    expect(observe(s)).toEqual(before);
    expect(s.appliedIndex).toBeGreaterThan(0);
  });

  it('every open gets a new boot epoch, so proposal ids never repeat across restarts', async () => {
    const path = newPath();
    let s = await open(path);
    await s.put('a', '1');
    await s.close();
    const epochs = [manifestEpoch(path)];
    s = await open(path);
    epochs.push(manifestEpoch(path));
    expect(epochs[1]).toBe(epochs[0]! + 1);
    await s.put('a', '2');
    s = await reopen(s, path);
    expect(s.getString('a')).toBe('2');
  });

  it('coalesces concurrent writers into one fsync per group: ops per append grows with concurrency', async () => {
    const s = await open(newPath());
    const run = async (writers: number, each: number) => {
      const before = s.writeStats();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < each; i++) await s.put(`c${writers}/${w}/${i}`, 'v');
        }),
      );
      const after = s.writeStats();
      return { perAppend: (after.ops - before.ops) / (after.appends - before.appends), fsyncs: after.fsyncs - before.fsyncs };
    };
    const one = await run(1, 20);
    const many = await run(128, 4);
    expect(one.perAppend).toBe(1);
    expect(one.fsyncs).toBe(20);
    expect(many.perAppend).toBeGreaterThanOrEqual(32);
    expect(many.fsyncs).toBeLessThanOrEqual(512 / 32);
  });

  it('a second open of the same directory fails with ERR_LOCKED until the first closes', async () => {
    const path = newPath();
    const s = await open(path);
    await expect(open(path)).rejects.toMatchObject({ code: 'ERR_LOCKED' });
    await s.close();
    const again = await open(path);
    expect(again.revision).toBe(1);
  });

  it('durable mode needs the native engine: engine js refuses path with a clear error', async () => {
    const e = await MetaStore.open({ path: newPath(), engine: 'js' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MetaStoreError);
    expect((e as MetaStoreError).code).toBe('ERR_INVALID_OPTION');
    expect((e as MetaStoreError).message).toMatch(/native engine/);
  });

  it.each([
    ['an empty path', { path: '' }],
    ['a tiny WAL segment', { walSegmentBytes: 100 }],
    ['a zero snapshot interval', { snapshotEveryBytes: 0 }],
  ])('refuses %s with ERR_INVALID_OPTION', async (_, options) => {
    await expect(MetaStore.open({ path: newPath(), engine: 'native', ...options } as OpenOptions)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('a torn last record is cut off on open; everything before it is there', async () => {
    const path = newPath();
    // A process that writes and stops without closing, as a crash leaves the store.
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { MetaStore } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const s = await MetaStore.open({ path: ${JSON.stringify(path)}, engine: 'native', leaseCheckIntervalMs: 0 });
      for (let i = 0; i < 20; i++) await s.put('k' + i, 'v' + i);
      await s.put('last', 'x'.repeat(3000));
      process.exit(0);`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    // The last append as a crash mid-write leaves it: its record's end and its COMMIT never
    // reached the disk (so it was never acknowledged).
    const segment = lastSegment(path);
    const [entries, commit] = records(segment).slice(-2);
    expect([entries!.type, commit!.type]).toEqual([TYPE_ENTRIES, TYPE_COMMIT]);
    editFile(segment, (b) => b.fill(0, entries!.offset + 1500, commit!.offset + commit!.length));
    let s = await open(path);
    expect(s.recovery?.truncated).toBe(`${segment}:${entries!.offset}`);
    expect(s.get('last')).toBeUndefined();
    for (let i = 0; i < 20; i++) expect(s.getString(`k${i}`)).toBe(`v${i}`);
    expect(s.revision).toBe(21);
    await s.put('next', 'ok');
    s = await reopen(s, path);
    expect(s.getString('next')).toBe('ok');
  });

  it('a flipped bit in the middle of the log refuses to open, naming segment and offset', async () => {
    const path = newPath();
    const s = await open(path);
    for (let i = 0; i < 50; i++) await s.put(`k${i}`, `value-${i}`);
    await s.close();
    const [segment, _bytes] = flipMidLog(path, 0x10);
    const e = await open(path).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MetaStoreError);
    expect((e as MetaStoreError).code).toBe('ERR_CORRUPT');
    expect((e as MetaStoreError).message).toContain(segment.split('/').pop()!);
    expect((e as MetaStoreError).message).toMatch(/offset \d+/);
    expect((e as MetaStoreError).message).toMatch(/repair/);
  });

  it('metastore verify / repair: a corrupt log is reported (exit 3), kept without --yes, truncated at the damage with it', async () => {
    expect(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first').toBe(true);
    const path = newPath();
    let s = await open(path);
    for (let i = 0; i < 40; i++) await s.put(`k${i}`, `value-${i}`);
    await s.close();
    const [segment, bytes] = flipMidLog(path, 0x01);
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const verify = cli('verify', path);
    expect(verify.status).toBe(3);
    expect(verify.stdout).toMatch(/corrupt in .*\.wal at offset \d+/);
    const dry = cli('repair', path);
    expect(dry.status).toBe(3);
    expect(readFileSync(segment).equals(bytes)).toBe(true);
    const repair = cli('repair', path, '--yes');
    expect(repair.status).toBe(0);
    expect(repair.stdout).toMatch(/cut the log at .*\.wal offset \d+/);
    expect(repair.stdout).toMatch(/dropped \d+ readable entries .* touching \d+ key\(s\): k\d+/);
    expect(repair.stdout).toMatch(/the store opens at revision \d+ with \d+ key\(s\)/);
    expect(cli('verify', path).status).toBe(0);
    s = await open(path);
    const kept = s.revision - 1;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(40);
    for (let i = 0; i < kept; i++) expect(s.getString(`k${i}`)).toBe(`value-${i}`);
    expect(s.get(`k${kept}`)).toBeUndefined();
  });

  it('a damaged newest snapshot is skipped for the one before it', async () => {
    const path = newPath();
    const options = { snapshotEveryBytes: 4 * 1024, walSegmentBytes: 64 * 1024 };
    let s = await open(path, options);
    // Enough rounds that the log is cut into segments and purged behind the snapshots.
    for (let round = 0; round < 40; round++) await someWrites(s, 60, `r${round % 5}/`);
    const before = observe(s);
    await s.close();
    const snaps = readdirSync(join(path, 'snap'))
      .filter((f) => f.endsWith('.snap'))
      .sort();
    expect(snaps.length).toBe(2);
    const newest = join(path, 'snap', snaps[1]!);
    truncateSync(newest, statSync(newest).size - 10);
    s = await open(path, options);
    expect(observe(s)).toEqual(before);
    expect(s.recovery?.skippedSnapshots).toEqual([newest]);
  });

  it('a store reopened often still snapshots: replayed log counts towards the next snapshot', async () => {
    const path = newPath();
    const options = { snapshotEveryBytes: 32 * 1024, walSegmentBytes: 64 * 1024 };
    let s = await open(path, options);
    for (let boot = 0; boot < 12; boot++) {
      for (let i = 0; i < 100; i++) await s.put(`b${boot}/${i}`, 'x'.repeat(40));
      s = await reopen(s, path, options);
    }
    expect(s.recovery!.snapshotIndex).toBeGreaterThan(0);
    expect(s.recovery!.replayedEntries).toBeLessThan(1200);
    expect(s.size).toBe(1200);
  });

  it('many small appends, two in flight, are applied in log order', async () => {
    const path = newPath();
    let s = await open(path, { flushAtOps: 1 });
    const revisions: number[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = 0; i < 40; i++) revisions.push((await s.put(`w${w}/${i}`, 'v')).revision);
      }),
    );
    expect(new Set(revisions).size).toBe(32 * 40);
    expect(s.writeStats().appends).toBeGreaterThan(32);
    s = await reopen(s, path);
    expect(s.size).toBe(32 * 40);
    expect(s.revision).toBe(1 + 32 * 40);
  });

  it('a process ends on its own with a durable store left open, once its last write is durable', () => {
    const path = newPath();
    // No close and no await on the last put: a pending append keeps the process alive until it
    // is durable, and an idle store does not hold the process after that.
    const script = `
      import { MetaStore } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};
      const s = await MetaStore.open({ path: ${JSON.stringify(path)}, engine: 'native' });
      await s.put('a', '1');
      s.put('b', '2').then(() => console.log('b durable'));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim(), stderr: child.stderr }).toEqual({
      status: 0,
      signal: null,
      stdout: 'b durable',
      stderr: '',
    });
    return open(path).then((s) => {
      expect([s.getString('a'), s.getString('b')]).toEqual(['1', '2']);
    });
  });

  it('a log failure with two appends in flight: every write settles and close returns', async () => {
    const path = newPath();
    let s = await open(path, { flushAtOps: 1 });
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) {
      if (i === 20) failNextAppend(s);
      writes.push(
        s.put(`k${i}`, 'v').then(
          () => 'ok',
          (e: MetaStoreError) => e.code,
        ),
      );
    }
    const outcomes = await Promise.all(writes);
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'ERR_OUTCOME_UNKNOWN' && o !== 'ERR_LOG_FAILED')).toEqual([]);
    expect(outcomes).toContain('ERR_OUTCOME_UNKNOWN');
    await s.close();
    s = await open(path);
    // Every acknowledged write survived.
    outcomes.forEach((o, i) => o === 'ok' && expect(s.getString(`k${i}`)).toBe('v'));
  });

  it('a log failure stops the store: the write in flight has an unknown outcome, later writes fail, a restart recovers', async () => {
    const path = newPath();
    let s = await open(path);
    await s.put('before', '1');
    failNextAppend(s);
    const lost = s.put('during', '2');
    await expect(lost).rejects.toMatchObject({ code: 'ERR_OUTCOME_UNKNOWN' });
    await expect(s.put('after', '3')).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    expect(s.getString('before')).toBe('1'); // reads still see the applied state
    s = await reopen(s, path);
    expect(s.getString('before')).toBe('1');
    expect(s.get('after')).toBeUndefined();
  });

  it('engine-level batches and lease revokes go through the log too', async () => {
    const path = newPath();
    let s = await open(path);
    const { id } = await s.lease.grant(100);
    await s.put('l', 'v', { lease: id });
    await s.applyBatch(new BatchWriter().put('raw', '1').leaseGrant(77, 50).finish());
    await s.lease.revoke(id);
    s = await reopen(s, path);
    expect(s.get('l')).toBeUndefined();
    expect(s.getString('raw')).toBe('1');
    expect(s.lease.list()).toEqual([77]);
  });
});

/** Flips bits (`mask`) in the middle of the last segment's records; returns the segment and its new bytes. */
function flipMidLog(path: string, mask: number): [string, Buffer] {
  const segment = lastSegment(path);
  const bytes = readFileSync(segment);
  const at = Math.floor(dataEnd(segment) / 2);
  bytes[at] = bytes[at]! ^ mask;
  writeFileSync(segment, bytes);
  return [segment, bytes];
}

/** Offset just past the last non-zero byte (segments are preallocated with zeros). */
function dataEnd(file: string): number {
  const bytes = readFileSync(file);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}
