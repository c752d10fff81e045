/**
 * Reading a durable store's files in tests, by the layout docs/wal.md describes: segments with a
 * 40-byte header, records with a 24-byte header padded to 8 bytes (type 1 ENTRIES, type 2
 * COMMIT), and the MANIFEST.
 */

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SEGMENT_HEADER = 40;
export const RECORD_HEADER = 24;
export const TYPE_ENTRIES = 1;
export const TYPE_COMMIT = 2;

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
    const length = Math.ceil((RECORD_HEADER + bytes.readUInt32LE(at)) / 8) * 8;
    out.push({ offset: at, type: bytes[at + 4]!, length });
    at += length;
  }
  return out;
}

/** The boot epoch the MANIFEST holds. */
export function manifestEpoch(path: string): number {
  return readFileSync(join(path, 'wal', 'MANIFEST')).readUInt32LE(32);
}

/** Rewrites `file` with `edit` applied to its bytes. */
export function editFile(file: string, edit: (bytes: Buffer) => void): void {
  const bytes = readFileSync(file);
  edit(bytes);
  writeFileSync(file, bytes);
}
