/**
 * Opening a store's parts: the engine `engine: 'auto' | 'native' | 'js'` asks for (with the
 * reason when 'auto' falls back to the pure-TS one), and its log — in memory, or the durable log
 * in `path` with the state it restored and the entries to replay.
 */

import { constructEngine } from '../engines/create-engine.js';
import { MetaStoreError } from '../errors.js';
import { openFileLog } from '../log/file-log.js';
import type { RecoveryInfo } from '../log/durable-options.js';
import type { Log, LogEntry } from '../log/log.js';
import { MemoryLog } from '../log/memory-log.js';
import type { Engine } from '../types.js';
import type { ResolvedOpenOptions } from './open-options.js';

/** A log opened for a store, with what opening found. */
export interface OpenedLog {
  log: Log;
  /** This boot's epoch (part of every proposal id). */
  epoch: number;
  /** Index the restored state is at (a snapshot's), 0 for a new store. */
  appliedIndex: number;
  /** Committed entries after it, to apply before the store serves anything. */
  replay: LogEntry[];
  /** What opening a durable store found. */
  recovery?: RecoveryInfo;
}

/** An engine and its opened log. */
export interface OpenedParts {
  engine: Engine;
  /** Why the native engine did not load, when `engine: 'auto'` fell back to the pure-TS one. */
  nativeLoadError: MetaStoreError | undefined;
  opened: OpenedLog;
}

const inMemory = (): OpenedLog => ({ log: new MemoryLog(), epoch: 1, appliedIndex: 0, replay: [] });

/** The engine and log `resolved` asks for; on failure nothing stays open. */
export async function openEngineAndLog(resolved: ResolvedOpenOptions): Promise<OpenedParts> {
  const path = resolved.path;
  if (path !== undefined) {
    let engine: Engine;
    try {
      engine = constructEngine('native', resolved.engineOptions);
    } catch (e) {
      if (e instanceof MetaStoreError && e.code === 'ERR_NATIVE_UNAVAILABLE') {
        throw new MetaStoreError('ERR_NATIVE_UNAVAILABLE', `a durable store (path) needs the native addon, which cannot load: ${e.message}`, { cause: e });
      }
      throw e;
    }
    try {
      return { engine, nativeLoadError: undefined, opened: await openFileLog(path, engine, resolved.durable) };
    } catch (e) {
      engine.close();
      throw e;
    }
  }
  const choice = resolved.engine;
  if (choice !== 'auto') return { engine: constructEngine(choice, resolved.engineOptions), nativeLoadError: undefined, opened: inMemory() };
  try {
    return { engine: constructEngine('native', resolved.engineOptions), nativeLoadError: undefined, opened: inMemory() };
  } catch (e) {
    if (!(e instanceof MetaStoreError) || e.code !== 'ERR_NATIVE_UNAVAILABLE') throw e;
    return { engine: constructEngine('js', resolved.engineOptions), nativeLoadError: e, opened: inMemory() };
  }
}
