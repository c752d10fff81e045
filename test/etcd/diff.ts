/**
 * The differential run: one script on etcd and on both engines, step by step; the first step whose
 * normalized results differ; known Debian 3.4.23 bugs whitelisted by etcd issue number; and a shrinker
 * that cuts a failing script down to a minimal one.
 */

import { createEngine, type EngineKind } from '../../ts/engines/create-engine.js';
import type { EtcdPool } from './harness.js';
import type { NRes } from './normalize.js';
import { EngineRunner, EtcdRunner, formatScript, formatStep, type Step, type TxnOpStep } from './script.js';
import { runOnServer } from './server-target.js';

/** Where a script runs: Debian's etcd, an engine directly, or `metastore serve` through the wire. */
export type TargetName = 'etcd' | EngineKind | 'server';

export interface Outcome {
  etcd?: NRes[];
  native?: NRes[];
  js?: NRes[];
  /** `metastore serve` through the wire (./server-target.ts). */
  server?: NRes[];
}

export interface Mismatch {
  index: number;
  a: TargetName;
  b: TargetName;
  resultA: unknown;
  resultB: unknown;
}

/** Known Debian etcd 3.4.23 bugs the etcd comparison whitelists (ours is held to current etcd). */
export const KNOWN_ETCD_BUGS = {
  18089:
    'etcd #18089 (fixed 3.4.34 / 3.5.16): a watch from the compacted revision misses DELETE events AT that revision; ' +
    'in the etcd comparison those events are dropped from both sides (ours keeps them: golden case 11a)',
  16372:
    'etcd #16372 (3.6): the taken path of a txn is checked in op order; 3.4.23 checks every put of the path first, then ' +
    'every range, so a failing range before a failing put reports the put error there; in the etcd comparison a txn ' +
    'error pair {etcd: lease not found / key not found, ours: future revision / compacted} is accepted (ours: golden case 7c)',
} as const;

/** How often each whitelist entry changed a comparison (for the report). */
export const whitelistHits: Record<keyof typeof KNOWN_ETCD_BUGS, number> = { 18089: 0, 16372: 0 };

const PUT_CHECK_ERRORS = new Set(['ERR_LEASE_NOT_FOUND', 'ERR_KEY_NOT_FOUND']);
const RANGE_CHECK_ERRORS = new Set(['ERR_FUTURE_REV', 'ERR_COMPACTED']);

export async function runOnEtcd(pool: EtcdPool, steps: readonly Step[]): Promise<NRes[]> {
  return pool.with((server) => new EtcdRunner(server).runAll(steps));
}

export function runOnEngine(kind: EngineKind, steps: readonly Step[]): NRes[] {
  const engine = createEngine(kind);
  try {
    return new EngineRunner(engine).runAll(steps);
  } finally {
    engine.close();
  }
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/**
 * The compacted revision in force at each step, from the script and etcd's (or our) results: a
 * successful compact sets it.
 */
function compactRevisions(steps: readonly Step[], results: readonly NRes[]): number[] {
  let c = -1;
  return steps.map((s, i) => {
    const at = c;
    if (s.op === 'compact' && results[i]?.type === 'compact') c = s.revision;
    return at;
  });
}

/** Whether some branch list of the txn tree holds a range with a revision before a put (op order, depth first). */
function hasRangeWithRevisionBeforePut(step: TxnOpStep): boolean {
  const flatten = (ops: readonly TxnOpStep[]): TxnOpStep[] => ops.flatMap((o) => (o.op === 'txn' ? [o, ...flatten(o.success), ...flatten(o.failure)] : [o]));
  const paths = (t: TxnOpStep): TxnOpStep[][] => (t.op === 'txn' ? [flatten(t.success), flatten(t.failure)] : []);
  return paths(step).some((ops) => {
    const r = ops.findIndex((o) => o.op === 'range' && (o.revision ?? 0) !== 0);
    return r >= 0 && ops.slice(r + 1).some((o) => o.op === 'put');
  });
}

/** Applies the whitelist to one step's pair of results (etcd vs ours). */
function whitelist(step: Step, compactRev: number, etcd: NRes, ours: NRes): [NRes, NRes] {
  if (step.op === 'watch' && etcd.type === 'watch' && ours.type === 'watch' && !etcd.canceled && !ours.canceled && step.start === compactRev) {
    const drop = (r: typeof etcd) => ({ ...r, events: r.events.filter((e) => !(e.type === 'delete' && e.kv.modRevision === compactRev)) });
    const e2 = drop(etcd);
    const o2 = drop(ours);
    if (!same(e2, etcd) || !same(o2, ours)) whitelistHits[18089]++;
    return [e2, o2];
  }
  if (
    step.op === 'txn' &&
    etcd.type === 'error' &&
    ours.type === 'error' &&
    PUT_CHECK_ERRORS.has(etcd.code) &&
    RANGE_CHECK_ERRORS.has(ours.code) &&
    hasRangeWithRevisionBeforePut(step)
  ) {
    whitelistHits[16372]++;
    return [ours, ours];
  }
  return [etcd, ours];
}

/** The first differing step, comparing native/js exactly and etcd/ours through the whitelist. */
export function firstMismatch(steps: readonly Step[], out: Outcome, from = 0): Mismatch | undefined {
  const compact = out.etcd ? compactRevisions(steps, out.etcd) : [];
  for (let i = from; i < steps.length; i++) {
    if (out.native && out.js && !same(out.native[i], out.js[i])) {
      return { index: i, a: 'native', b: 'js', resultA: out.native[i], resultB: out.js[i] };
    }
    // Through the wire the server must answer as the engine it serves (etcd's normalization on one side, ours on the other).
    if (out.server && out.native && !same(out.native[i], out.server[i])) {
      return { index: i, a: 'native', b: 'server', resultA: out.native[i], resultB: out.server[i] };
    }
    if (out.etcd) {
      for (const kind of ['native', 'js', 'server'] as const) {
        const ours = out[kind];
        if (!ours) continue;
        const [e, o] = whitelist(steps[i]!, compact[i]!, out.etcd[i]!, ours[i]!);
        if (!same(e, o)) return { index: i, a: 'etcd', b: kind, resultA: e, resultB: o };
      }
    }
  }
  return undefined;
}

export async function runAll(pool: EtcdPool | undefined, steps: readonly Step[], targets: readonly TargetName[]): Promise<Outcome> {
  const out: Outcome = {};
  if (targets.includes('native')) out.native = runOnEngine('native', steps);
  if (targets.includes('js')) out.js = runOnEngine('js', steps);
  if (targets.includes('etcd') && pool) out.etcd = await runOnEtcd(pool, steps);
  if (targets.includes('server')) out.server = await runOnServer(steps);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shrinking.

/** Smaller variants of one step (simplest first). */
function simplerSteps(step: Step): Step[] {
  const out: Step[] = [];
  if (step.op === 'txn') {
    const variants: TxnOpStep[] = [];
    for (const branch of ['compare', 'success', 'failure'] as const) {
      const list = step[branch] as unknown[];
      for (let i = 0; i < list.length; i++) {
        variants.push({ ...step, [branch]: list.filter((_, j) => j !== i) } as TxnOpStep);
      }
    }
    for (const branch of ['success', 'failure'] as const) {
      step[branch].forEach((op, i) => {
        for (const simpler of simplerSteps(op)) {
          const list = [...step[branch]];
          list[i] = simpler as TxnOpStep;
          variants.push({ ...step, [branch]: list });
        }
      });
    }
    out.push(...variants);
  } else {
    // Drop optional fields one at a time.
    for (const k of Object.keys(step)) {
      if (k === 'op' || k === 'key' || k === 'value' || k === 'id' || k === 'ttl' || k === 'revision' || k === 'start' || k === 'name') continue;
      const copy = { ...step } as Record<string, unknown>;
      delete copy[k];
      out.push(copy as unknown as Step);
    }
  }
  return out;
}

export interface ShrinkResult {
  steps: Step[];
  mismatch: Mismatch;
  outcome: Outcome;
  runs: number;
}

/**
 * Cuts `steps` down while the same pair of targets still differs: truncate after the first mismatch,
 * drop chunks of steps (halving), then simplify the remaining steps. Bounded by `maxRuns` and
 * `deadlineMs`.
 */
export async function shrink(
  pool: EtcdPool | undefined,
  steps: readonly Step[],
  first: Mismatch,
  options: { maxRuns?: number; deadlineMs?: number } = {},
): Promise<ShrinkResult> {
  const targets: TargetName[] = first.a === 'etcd' ? ['etcd', first.b] : [first.a, first.b];
  const maxRuns = options.maxRuns ?? 400;
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  let runs = 0;
  let best: ShrinkResult | undefined;

  const fails = async (candidate: Step[]): Promise<boolean> => {
    if (runs >= maxRuns || Date.now() > deadline) return false;
    runs++;
    let outcome: Outcome;
    try {
      outcome = await runAll(pool, candidate, targets);
    } catch {
      return false; // a candidate the harness cannot run (e.g. a step left without context)
    }
    const m = firstMismatch(candidate, outcome);
    if (!m || m.a !== first.a || m.b !== first.b) return false;
    best = { steps: candidate.slice(0, m.index + 1), mismatch: m, outcome, runs };
    return true;
  };

  let current = steps.slice(0, first.index + 1);
  if (!(await fails(current))) {
    return { steps: current, mismatch: first, outcome: {}, runs };
  }
  current = best!.steps;

  // Drop chunks of steps, halving the chunk size; never drop the failing last step.
  for (let chunk = Math.max(1, Math.floor(current.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    let i = current.length - 1 - chunk;
    while (i >= 0) {
      const candidate = [...current.slice(0, i), ...current.slice(i + chunk)];
      if (await fails(candidate)) {
        current = best!.steps;
        i = Math.min(i, current.length - 1) - chunk;
      } else {
        i -= chunk;
      }
    }
    if (chunk === 1) break;
  }

  // Simplify single steps until nothing changes.
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < current.length; i++) {
      for (const simpler of simplerSteps(current[i]!)) {
        const candidate = [...current];
        candidate[i] = simpler;
        if (await fails(candidate)) {
          current = best!.steps;
          changed = true;
          break;
        }
      }
    }
  }
  return { ...best!, runs };
}

/** A failure report: the script, the differing step and both sides' results. */
export function report(title: string, steps: readonly Step[], m: Mismatch): string {
  return [
    title,
    `first difference at step ${m.index} (${m.a} vs ${m.b}): ${formatStep(steps[m.index]!)}`,
    `script:`,
    formatScript(steps),
    `${m.a}: ${JSON.stringify(m.resultA)}`,
    `${m.b}: ${JSON.stringify(m.resultB)}`,
  ].join('\n');
}
