// Snapshot payload, format version 1: a store's whole state as bytes, written between batches by
// `Store::snapshot_into` (or a SnapshotPlan beside applies) and read back by
// `Store::from_snapshot` (crates/metastore-core/src/snapshot.rs). The durable log stores it as
// the payload of a snapshot file (formats/wal.mjs). The shape of this file: formats/README.md.
export default {
  title: 'Snapshot payload, version 1',
  doc: "A store's state: counters, leases, then every key with history (tombstones included), in ascending key order, cut into sections restore decodes in parallel. Indexes and the keys of each lease are not stored: they follow from the entries.",
  rules: 'wal.md',
  items: [
    {
      layout: 'Snapshot',
      prefix: 'SNAPSHOT',
      size: 'SNAPSHOT_FIXED',
      doc: 'The payload.',
      fields: [
        { name: 'magic', type: 'bytes[6]', value: 'MSSNAP', const: 'SNAPSHOT_MAGIC', doc: 'Marks a snapshot payload.' },
        {
          name: 'version',
          type: 'u16',
          value: 1,
          const: 'SNAPSHOT_FORMAT_VERSION',
          doc: 'The format version `snapshot_into` writes and `from_snapshot` reads.',
        },
        { name: 'flags', type: 'u8', flags: 'SnapshotFlag', doc: 'Flag bits.' },
        { name: 'revision', type: 'i64', doc: 'The store revision (≥ 1).' },
        { name: 'compactRevision', type: 'i64', doc: 'The compacted revision (−1: never compacted).' },
        { name: 'nextLeaseId', type: 'i64', doc: 'The next id an automatic lease grant tries.' },
        { name: 'leaseCount', type: 'u32', doc: 'Number of leases.' },
        { name: 'leases', type: 'SnapshotLease[leaseCount]', doc: 'The granted leases, ids ascending.' },
        { name: 'sectionCount', type: 'u32', doc: 'Number of sections.' },
        { name: 'sections', type: 'Section[sectionCount]', doc: 'The keys, in runs.' },
      ],
    },
    {
      flags: 'SnapshotFlag',
      type: 'u8',
      rust: { consts: 'SNAPSHOT_' },
      doc: 'Flags of a snapshot.',
      bits: [{ name: 'POISONED', bit: 0, doc: 'An apply failed midway in the store it was taken from: the restored store refuses batches too.' }],
    },
    {
      layout: 'SnapshotLease',
      prefix: 'SNAPSHOT_LEASE',
      size: 'SNAPSHOT_LEASE_BYTES',
      doc: 'A granted lease.',
      fields: [
        { name: 'id', type: 'i64', doc: 'The lease id (not 0).' },
        { name: 'ttl', type: 'i64', doc: 'Its TTL, in seconds.' },
      ],
    },
    {
      layout: 'Section',
      prefix: 'SECTION',
      size: 'SECTION_HEADER_BYTES',
      doc: 'A run of keys, continuing the key order of the section before it.',
      fields: [
        { name: 'entryCount', type: 'u32', doc: 'Number of keys.' },
        { name: 'byteCount', type: 'u64', doc: 'Bytes of the entries that follow.' },
        { name: 'entries', type: 'KeyEntry[entryCount]', doc: 'The keys.' },
      ],
    },
    {
      layout: 'KeyEntry',
      prefix: 'KEY_ENTRY',
      size: 'KEY_ENTRY_FIXED',
      doc: 'One key and its history.',
      fields: [
        { name: 'keyLen', type: 'u32', doc: 'Length of key.' },
        { name: 'key', type: 'bytes[keyLen]', doc: 'The key.' },
        { name: 'versionCount', type: 'u32', doc: 'Number of versions (at least 1).' },
        { name: 'versions', type: 'KeyVersion[versionCount]', doc: 'Its history, oldest first; the key is live when the newest is not a tombstone.' },
      ],
    },
    {
      layout: 'KeyVersion',
      prefix: 'KEY_VERSION',
      size: 'KEY_VERSION_FIXED',
      doc: 'One version of a key.',
      fields: [
        { name: 'createRevision', type: 'i64', doc: 'Create revision (0 for a tombstone).' },
        { name: 'modRevision', type: 'i64', doc: 'Revision of this version.' },
        { name: 'version', type: 'i64', doc: 'Version (0 for a tombstone).' },
        { name: 'lease', type: 'i64', doc: 'Attached lease; 0: none.' },
        { name: 'subRevision', type: 'u32', doc: 'Position of the change within its revision.' },
        { name: 'valueLen', type: 'u32', doc: 'Length of value.' },
        { name: 'value', type: 'bytes[valueLen]', doc: 'The value.' },
      ],
    },
  ],
};
