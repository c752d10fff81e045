/**
 * Recovery never loses an acknowledged write silently (docs/wal.md, "Opening"): each way the
 * previous log format lost acknowledged writes on open, end to end through the public API and
 * the CLI. Format-level cases are in crates/metastore-wal/tests; random damage in
 * test/corruption.test.ts.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MetaStoreError } from '../ts/errors.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import { editFile, lastSegment, records, segments, TYPE_COMMIT, TYPE_ENTRIES } from './wal-files.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DIST = new URL('../dist/index.js', import.meta.url).href;
const root = mkdtempSync(join(tmpdir(), 'metastore-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newPath = () => join(root, `s${dirs++}`);
const base: OpenOptions = { engine: 'native', leaseCheckIntervalMs: 0 };
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

/** Writes `n` keys `k<i>` (values from `value`) and closes the store cleanly. */
async function writeAndClose(path: string, n: number, value: (i: number) => string, options: OpenOptions = {}): Promise<void> {
  const s = await MetaStore.open({ path, ...base, ...options });
  for (let i = 0; i < n; i++) await s.put(`k${i}`, value(i));
  await s.close();
}

/** The same writes from a process that stops without closing the store, as a crash leaves it. */
function writeAndDie(path: string, n: number, value: string): void {
  const run = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
    import { MetaStore } from ${JSON.stringify(DIST)};
    const s = await MetaStore.open({ path: ${JSON.stringify(path)}, engine: 'native', leaseCheckIntervalMs: 0 });
    for (let i = 0; i < ${n}; i++) await s.put('k' + i, ${JSON.stringify(value)});
    process.exit(0);`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
}

async function openError(path: string, options: OpenOptions = {}): Promise<MetaStoreError> {
  const e = await MetaStore.open({ path, ...base, ...options }).then(
    async (s) => {
      const found = s.size;
      await s.close();
      throw new Error(`opened with ${found} keys instead of refusing`);
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MetaStoreError);
  return e as MetaStoreError;
}

async function expectAll(path: string, n: number, value: (i: number) => string, options: OpenOptions = {}): Promise<MetaStore> {
  const s = await MetaStore.open({ path, ...base, ...options });
  for (let i = 0; i < n; i++) expect(s.getString(`k${i}`), `k${i}`).toBe(value(i));
  return s;
}

describe('recovery refuses what would lose acknowledged writes (native, durable)', () => {
  it.each([
    ['closed cleanly', false],
    ['after a crash', true],
  ])('a zeroed record header mid-segment with records after it is damage, not the end (%s)', async (_, crash) => {
    const path = newPath();
    if (crash) writeAndDie(path, 100, 'v');
    else await writeAndClose(path, 100, () => 'v');
    const segment = lastSegment(path);
    const mid = records(segment).filter((r) => r.type === TYPE_ENTRIES)[50]!;
    editFile(segment, (b) => b.fill(0, mid.offset, mid.offset + 24));
    const e = await openError(path);
    expect(e.code).toBe('ERR_CORRUPT');
    expect(e.message).toContain(`${segment.split('/').pop()} at offset ${mid.offset}`);
    const verify = cli('verify', path);
    expect(verify.status).toBe(3);
    expect(verify.stdout).toMatch(/zeroed record header/);
  });

  it.each([
    ['closed cleanly', false],
    ['after a crash', true],
  ])('a flipped byte anywhere in the last acknowledged record, a zero-filled value, is damage, not a torn write (%s)', async (_, crash) => {
    const path = newPath();
    const zeros = '\0'.repeat(2000);
    if (crash) writeAndDie(path, 10, zeros);
    else await writeAndClose(path, 10, () => zeros);
    const segment = lastSegment(path);
    const [last, commit] = records(segment).slice(-2);
    expect([last!.type, commit!.type]).toEqual([TYPE_ENTRIES, TYPE_COMMIT]);
    for (let at = last!.offset; at < last!.offset + last!.length - 8; at += 97) {
      editFile(segment, (b) => void (b[at] = b[at]! ^ 0x20));
      const e = await openError(path);
      expect(e.code, `flip at ${at}`).toBe('ERR_CORRUPT');
      editFile(segment, (b) => void (b[at] = b[at]! ^ 0x20));
    }
    // A damaged COMMIT alone loses nothing: every record before it is whole.
    editFile(segment, (b) => void (b[commit!.offset + 30] = b[commit!.offset + 30]! ^ 1));
    const s = await expectAll(path, 10, () => zeros);
    await s.close();
  });

  it('a missing newest segment, or every segment, refuses to open; verify says so; repair accepts the loss on purpose', async () => {
    const path = newPath();
    const value = (i: number) => `value-${i}-${'x'.repeat(200)}`;
    await writeAndClose(path, 400, value, { walSegmentBytes: 64 << 10, snapshotEveryBytes: 1 << 30 });
    const all = segments(path);
    expect(all.length).toBeGreaterThan(1);
    rmSync(all[all.length - 1]!);
    expect((await openError(path)).message).toMatch(/newest segment .* is missing/);
    expect(cli('verify', path).status).toBe(3);
    for (const f of segments(path)) rmSync(f);
    expect((await openError(path)).message).toMatch(/every segment of the log is missing/);
    expect(cli('verify', path).status).toBe(3);
    const repair = cli('repair', path, '--yes');
    expect(repair.status, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/accepted the loss/);
    const s = await MetaStore.open({ path, ...base });
    expect(s.size).toBe(0);
    await s.close();
  });

  it('verify says when the store is open in another store instead of "ok"', async () => {
    const path = newPath();
    await writeAndClose(path, 5, () => 'v');
    expect(cli('verify', path).status).toBe(0);
    const s = await MetaStore.open({ path, ...base });
    const verify = cli('verify', path);
    expect(verify.status).toBe(4);
    expect(verify.stdout).toMatch(/IN USE/);
    await s.close();
  });

  it('damage the snapshot already covers does not block opening; repair keeps every intact record', async () => {
    const path = newPath();
    const value = (i: number) => `value-${i}-${'y'.repeat(300)}`;
    const options: OpenOptions = { walSegmentBytes: 64 << 10, snapshotEveryBytes: 96 << 10 };
    await writeAndClose(path, 3000, value, options);
    const snapshots = readdirSync(join(path, 'snap'))
      .filter((f) => f.endsWith('.snap'))
      .sort();
    const newest = parseInt(snapshots[snapshots.length - 1]!, 16);
    const segs = segments(path);
    const firstOf = (f: string) => parseInt(f.split('/').pop()!.split('-')[1]!, 16);
    const covered = segs.filter((_f, i) => i + 1 < segs.length && firstOf(segs[i + 1]!) <= newest + 1);
    expect(covered.length, 'a segment the newest snapshot covers is kept as the fallback').toBeGreaterThan(0);
    const damaged = covered[0]!;
    const mid = records(damaged)[3]!;
    editFile(damaged, (b) => b.fill(0xee, mid.offset + 30, mid.offset + 60));
    let s = await expectAll(path, 3000, value, options);
    expect(s.recovery?.coveredDamage).toEqual([expect.stringContaining(`${damaged}:${mid.offset}`)]);
    await s.close();
    const verify = cli('verify', path);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/harmless damage/);
    const repair = cli('repair', path, '--yes');
    expect(repair.status).toBe(0);
    expect(repair.stdout).toMatch(/nothing to repair/);
    s = await expectAll(path, 3000, value, options);
    await s.close();
  });

  it('reopening often takes no snapshot per open and keeps the log bounded', async () => {
    const path = newPath();
    const options: OpenOptions = { walSegmentBytes: 64 << 10, snapshotEveryBytes: 32 << 10 };
    const snapshotsTaken = new Set<string>();
    for (let cycle = 0; cycle < 40; cycle++) {
      const s = await MetaStore.open({ path, ...base, ...options });
      for (let i = 0; i < 40; i++) await s.put(`c${cycle % 5}/${i}`, 'z'.repeat(300));
      await s.compact(s.revision); // the state (and so the snapshot) stays the same size
      await s.close();
      for (const f of readdirSync(join(path, 'snap'))) snapshotsTaken.add(f);
      expect(segments(path).length, `cycle ${cycle}`).toBeLessThanOrEqual(6);
    }
    // ~40 × 40 × 330 bytes = 530 KB of log: a snapshot per 32 KiB is ~16, not one per open.
    expect(snapshotsTaken.size).toBeLessThan(30);
    const s = await MetaStore.open({ path, ...base, ...options });
    expect(s.getString('c4/39')).toBe('z'.repeat(300));
    const before = readdirSync(join(path, 'snap')).join();
    await s.close();
    // An open with nothing to replay writes no snapshot.
    await (await MetaStore.open({ path, ...base, ...options })).close();
    expect(readdirSync(join(path, 'snap')).join()).toBe(before);
  });
});
