// Log entry framing, version 1: what one log entry holds. ts/log/entry.ts writes and reads it;
// the apply loop hands the trailing codec batch to the engine in one call. How entries are
// proposed, coalesced and applied: docs/log.md. The shape of this file: formats/README.md.
export default {
  title: 'Log entry framing, version 1',
  doc: 'One log entry: the ids of the proposals it coalesced, then one codec batch holding all their ops.',
  rules: 'log.md',
  items: [
    {
      layout: 'Entry',
      prefix: 'ENTRY',
      size: 'ENTRY_HEADER_BYTES',
      doc: 'A log entry.',
      fields: [
        { name: 'magic', type: 'bytes[3]', value: 'MSE', const: 'ENTRY_MAGIC', doc: 'Marks a log entry.' },
        { name: 'version', type: 'u8', value: 1, const: 'ENTRY_VERSION', doc: 'Version of the entry framing.' },
        { name: 'proposalCount', type: 'u32', doc: 'Number of proposals.' },
        { name: 'proposals', type: 'Proposal[proposalCount]', doc: 'The proposal table, in proposal order.' },
        { name: 'batch', type: 'Batch', doc: "One codec batch holding every proposal's ops, in table order; the op counts add up to its count." },
      ],
    },
    {
      layout: 'Proposal',
      prefix: 'PROPOSAL',
      size: 'PROPOSAL_BYTES',
      doc: 'One proposal: a globally unique id and how many ops of the batch are its own.',
      fields: [
        { name: 'node', type: 'u32', doc: 'The node that proposed it (1 for a single node).' },
        { name: 'epoch', type: 'u32', doc: "That node's boot epoch (persisted, one more on every open)." },
        { name: 'counter', type: 'u64', doc: 'A counter within the boot.' },
        { name: 'opCount', type: 'u32', doc: 'Its ops: the next opCount ops of the batch.' },
      ],
    },
  ],
};
