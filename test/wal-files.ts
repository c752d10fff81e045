/**
 * Reading a durable store's files in tests, by the layout declared in formats/wal.mjs (generated
 * into ./wal-layout.mjs; docs/formats.md): segments with a header, records with a header, padded
 * (type ENTRIES or COMMIT), and the MANIFEST.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestOffsets, RECORD_ALIGNMENT, RECORD_HEADER, RecordOffsets, RecordType, SEGMENT_HEADER } from './wal-layout.mjs';

export { RECORD_HEADER, SEGMENT_HEADER } from './wal-layout.mjs';
export const TYPE_ENTRIES = RecordType.ENTRIES;
export const TYPE_COMMIT = RecordType.COMMIT;

export interface RecordSpan {
  offset: number;
  type: number;
  /** Framed length (header, payload, padding). */
  length: number;
}

/** The store's segment files, oldest first. */
export function segments(path: string): string[] {
  return readdirSync(join(path, 'wal'))
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .map((f) => join(path, 'wal', f));
}

export function lastSegment(path: string): string {
  const all = segments(path);
  return all[all.length - 1]!;
}

/** Every record of a sound segment, walked by their length fields. */
export function records(segment: string): RecordSpan[] {
  const bytes = readFileSync(segment);
  const out: RecordSpan[] = [];
  let at = SEGMENT_HEADER;
  while (at + RECORD_HEADER <= bytes.length && bytes.subarray(at, at + RECORD_HEADER).some((b) => b !== 0)) {
    const length = Math.ceil((RECORD_HEADER + bytes.readUInt32LE(at + RecordOffsets.len)) / RECORD_ALIGNMENT) * RECORD_ALIGNMENT;
    out.push({ offset: at, type: bytes[at + RecordOffsets.type]!, length });
    at += length;
  }
  return out;
}

/** The boot epoch the MANIFEST holds. */
export function manifestEpoch(path: string): number {
  return readFileSync(join(path, 'wal', 'MANIFEST')).readUInt32LE(ManifestOffsets.epoch);
}

/** Rewrites `file` with `edit` applied to its bytes. */
export function editFile(file: string, edit: (bytes: Buffer) => void): void {
  const bytes = readFileSync(file);
  edit(bytes);
  writeFileSync(file, bytes);
}
