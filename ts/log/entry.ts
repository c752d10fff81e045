/**
 * Log entry framing, version 1 (docs/log.md; the layout, declared in formats/entry.mjs, in
 * docs/formats.md). One entry carries the proposals the {@link BatchProposer} coalesced while the
 * previous append was in flight: a header, the proposal ids, then a codec batch holding every
 * proposal's ops, in proposal order.
 *
 * The engine applies the trailing codec batch with one call; the proposal table says which ops
 * answer which waiting caller. A proposal id is globally unique: the node that proposed it, that
 * node's boot epoch (persisted, bumped on every open) and a counter within the boot.
 */

import { BATCH_HEADER_BYTES, BATCH_MAGIC, BatchOffsets, CODEC_VERSION, readU32 } from '../codec/constants.js';
import { MetaStoreError } from '../errors.js';
import { ENTRY_HEADER_BYTES, ENTRY_MAGIC, ENTRY_VERSION, EntryOffsets, PROPOSAL_BYTES, ProposalOffsets } from './entry-layout.js';

export { ENTRY_HEADER_BYTES, ENTRY_VERSION, PROPOSAL_BYTES } from './entry-layout.js';

// The layout (formats/entry.mjs) as this module's own consts: V8 folds a module's consts, and
// their fields, into the code that reads them; an imported binding costs a load at every use.
const [ENTRY_MAGIC0, ENTRY_MAGIC1, ENTRY_MAGIC2] = ENTRY_MAGIC;
const [BATCH_MAGIC0, BATCH_MAGIC1, BATCH_MAGIC2] = BATCH_MAGIC;
const EntryAt = EntryOffsets;
const ProposalAt = ProposalOffsets;
const HEADER = ENTRY_HEADER_BYTES;
const PROPOSAL = PROPOSAL_BYTES;
const BatchAt = BatchOffsets;

const TWO_32 = 0x1_0000_0000;

/** A decoded entry header: the proposal table and the codec batch the engine applies. */
export interface EntryView {
  readonly proposals: number;
  /** The entry's codec batch (a view of the entry). */
  readonly batch: Uint8Array;
  /** Node, epoch and counter of proposal `i` (in table order), and its op count. */
  nodeAt(i: number): number;
  epochAt(i: number): number;
  counterAt(i: number): number;
  opCountAt(i: number): number;
  /** Calls `fn` for every proposal in table order, without building an object per proposal. */
  forEach(fn: (node: number, epoch: number, counter: number, firstOp: number, opCount: number) => void): void;
}

function setU32(b: Uint8Array, at: number, n: number): void {
  b[at] = n & 0xff;
  b[at + 1] = (n >>> 8) & 0xff;
  b[at + 2] = (n >>> 16) & 0xff;
  b[at + 3] = (n >>> 24) & 0xff;
}

// Small entries are carved from shared slabs (one allocation per slab, not per entry); a slab
// lives while any entry cut from it is referenced.
const SLAB_BYTES = 256 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function allocate(n: number): Uint8Array {
  if (n > SLAB_BYTES / 8) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += (n + 7) & ~7;
  return out;
}

function corrupt(detail: string): MetaStoreError {
  return new MetaStoreError('ERR_CORRUPT', `log entry is malformed: ${detail}`);
}

/** Reads an entry's header and proposal table; throws ERR_CORRUPT when they do not hold together. */
export function readEntry(data: Uint8Array): EntryView {
  const magic = EntryAt.magic;
  if (data.length < HEADER || data[magic] !== ENTRY_MAGIC0 || data[magic + 1] !== ENTRY_MAGIC1 || data[magic + 2] !== ENTRY_MAGIC2) {
    throw corrupt('bad magic');
  }
  const version = data[EntryAt.version];
  if (version !== ENTRY_VERSION) throw corrupt(`unsupported entry version ${version}`);
  const proposals = readU32(data, EntryAt.proposalCount);
  const batchAt = EntryAt.proposals + proposals * PROPOSAL;
  if (batchAt + BATCH_HEADER_BYTES > data.length) throw corrupt(`${proposals} proposals do not fit ${data.length} bytes`);
  const batch = data.subarray(batchAt);
  const ops = readU32(data, batchAt + BatchAt.count);
  let total = 0;
  for (let i = 0; i < proposals; i++) total += readU32(data, EntryAt.proposals + i * PROPOSAL + ProposalAt.opCount);
  if (total !== ops) throw corrupt(`proposals claim ${total} ops, the batch holds ${ops}`);
  return new TableView(data, proposals, batch);
}

/** Reads the proposal table in place (one object per entry, none per proposal). */
class TableView implements EntryView {
  constructor(
    private readonly data: Uint8Array,
    readonly proposals: number,
    readonly batch: Uint8Array,
  ) {}

  nodeAt(i: number): number {
    return readU32(this.data, EntryAt.proposals + i * PROPOSAL + ProposalAt.node);
  }

  epochAt(i: number): number {
    return readU32(this.data, EntryAt.proposals + i * PROPOSAL + ProposalAt.epoch);
  }

  counterAt(i: number): number {
    const at = EntryAt.proposals + i * PROPOSAL + ProposalAt.counter;
    return readU32(this.data, at + 4) * TWO_32 + readU32(this.data, at);
  }

  opCountAt(i: number): number {
    return readU32(this.data, EntryAt.proposals + i * PROPOSAL + ProposalAt.opCount);
  }

  forEach(fn: (node: number, epoch: number, counter: number, firstOp: number, opCount: number) => void): void {
    let firstOp = 0;
    for (let i = 0; i < this.proposals; i++) {
      const opCount = this.opCountAt(i);
      fn(this.nodeAt(i), this.epochAt(i), this.counterAt(i), firstOp, opCount);
      firstOp += opCount;
    }
  }
}

/**
 * Builds one entry from proposals appended one after another. Ops are copied in as they come;
 * {@link EntryBuilder.seal} lays out header, table and batch in one new buffer.
 */
export class EntryBuilder {
  private ops = new Uint8Array(16 * 1024);
  private opsBytes = 0;
  // Reused from entry to entry (only the first `count` slots are this entry's): no arrays per entry.
  private readonly counters: number[] = [];
  private readonly opCounts: number[] = [];
  private count = 0;
  /** Ops added since the last seal. */
  opCount = 0;

  constructor(
    private readonly node: number,
    private readonly epoch: number,
  ) {}

  get proposals(): number {
    return this.count;
  }

  /** Bytes the sealed entry would take. */
  get bytes(): number {
    return HEADER + this.count * PROPOSAL + BATCH_HEADER_BYTES + this.opsBytes;
  }

  /** Adds a proposal: `batch` is a validated codec batch holding `opCount` ops. */
  add(counter: number, batch: Uint8Array, opCount: number): void {
    const body = batch.length - BATCH_HEADER_BYTES;
    if (this.opsBytes + body > this.ops.length) {
      let size = this.ops.length * 2;
      while (size < this.opsBytes + body) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.ops.subarray(0, this.opsBytes));
      this.ops = grown;
    }
    this.ops.set(batch.subarray(BATCH_HEADER_BYTES), this.opsBytes);
    this.opsBytes += body;
    this.counters[this.count] = counter;
    this.opCounts[this.count] = opCount;
    this.count++;
    this.opCount += opCount;
  }

  /** The entry, in a buffer of its own; the builder starts over empty. */
  seal(): Uint8Array {
    const n = this.count;
    const out = allocate(this.bytes);
    out[EntryAt.magic] = ENTRY_MAGIC0;
    out[EntryAt.magic + 1] = ENTRY_MAGIC1;
    out[EntryAt.magic + 2] = ENTRY_MAGIC2;
    out[EntryAt.version] = ENTRY_VERSION;
    setU32(out, EntryAt.proposalCount, n);
    let at = EntryAt.proposals;
    for (let i = 0; i < n; i++, at += PROPOSAL) {
      const counter = this.counters[i]!;
      setU32(out, at + ProposalAt.node, this.node);
      setU32(out, at + ProposalAt.epoch, this.epoch);
      setU32(out, at + ProposalAt.counter, counter >>> 0);
      setU32(out, at + ProposalAt.counter + 4, Math.floor(counter / TWO_32));
      setU32(out, at + ProposalAt.opCount, this.opCounts[i]!);
    }
    // The batch: its header, then the proposals' ops as they came.
    out[at + BatchAt.magic] = BATCH_MAGIC0;
    out[at + BatchAt.magic + 1] = BATCH_MAGIC1;
    out[at + BatchAt.magic + 2] = BATCH_MAGIC2;
    out[at + BatchAt.version] = CODEC_VERSION;
    setU32(out, at + BatchAt.count, this.opCount);
    out.set(this.ops.subarray(0, this.opsBytes), at + BatchAt.ops);
    this.opsBytes = 0;
    this.count = 0;
    this.opCount = 0;
    if (this.ops.length > 1 << 20) this.ops = new Uint8Array(16 * 1024); // don't pin a burst's buffer
    return out;
  }
}
