// Error numbers: why a batch (or one op of it) was refused, as both engines report it: in an
// ErrorResult (formats/results.mjs), in a native error's `MSERR:<number>:...` message, and in
// the TypeScript engine's errors. Stable across engines and versions: a number never changes
// meaning. Rust: crates/metastore-core/src/errors.rs; TypeScript: ts/errors.ts. Which check gives
// which number: docs/codec.md ("Validation", "Apply"). The shape of this file: formats/README.md.
export default {
  title: 'Error numbers',
  doc: "The codec's error numbers; each has a stable code (`ERR_` + its name), an etcd status category and a message.",
  rules: 'codec.md',
  items: [
    {
      errors: 'ErrorNumber',
      type: 'u16',
      doc: 'A codec error number. The values never change meaning.',
      values: [
        { name: 'MALFORMED_BATCH', value: 1, category: 'InvalidArgument', message: 'malformed batch', etcd: '—', doc: 'The batch breaks the codec: bad magic, truncated, trailing bytes, unknown type or flags, an i64 outside ±(2^53 − 1).' },
        { name: 'UNSUPPORTED_VERSION', value: 2, category: 'InvalidArgument', message: 'unsupported codec version', etcd: '—', doc: 'The batch has another codec version.' },
        { name: 'KEY_NOT_PROVIDED', value: 3, category: 'InvalidArgument', message: 'key is not provided', etcd: 'InvalidArgument: key is not provided', doc: 'An empty key.' },
        { name: 'KEY_TOO_LARGE', value: 4, category: 'InvalidArgument', message: 'key is larger than maxKeyBytes', etcd: 'InvalidArgument: request is too large', doc: 'A key longer than maxKeyBytes.' },
        { name: 'VALUE_TOO_LARGE', value: 5, category: 'InvalidArgument', message: 'value is larger than maxValueBytes', etcd: 'InvalidArgument: request is too large', doc: 'A value longer than maxValueBytes.' },
        { name: 'INVALID_SORT', value: 6, category: 'InvalidArgument', message: 'invalid sort option', etcd: 'InvalidArgument: invalid sort option', doc: 'A sort order or target out of range.' },
        { name: 'VALUE_PROVIDED', value: 7, category: 'InvalidArgument', message: 'value is provided with ignoreValue', etcd: 'InvalidArgument: value is provided', doc: 'A PUT with IGNORE_VALUE and a value.' },
        { name: 'LEASE_PROVIDED', value: 8, category: 'InvalidArgument', message: 'lease is provided with ignoreLease', etcd: 'InvalidArgument: lease is provided', doc: 'A PUT with IGNORE_LEASE and a lease.' },
        { name: 'KEY_NOT_FOUND', value: 9, category: 'InvalidArgument', message: 'key not found', etcd: 'InvalidArgument: key not found', doc: 'IGNORE_VALUE or IGNORE_LEASE on a key that does not exist.' },
        { name: 'LEASE_NOT_FOUND', value: 10, category: 'NotFound', message: 'requested lease not found', etcd: 'NotFound: requested lease not found', doc: 'A lease that is not granted.' },
        { name: 'FUTURE_REV', value: 11, category: 'OutOfRange', message: 'required revision is a future revision', etcd: 'OutOfRange: required revision is a future revision', doc: 'A revision above the current one.' },
        { name: 'COMPACTED', value: 12, category: 'OutOfRange', message: 'required revision has been compacted', etcd: 'OutOfRange: required revision has been compacted', doc: 'A revision below the compacted one.' },
        { name: 'INTERNAL', value: 13, category: 'Internal', message: 'internal engine error', etcd: '— (a native panic, caught)', doc: 'The engine failed (a native panic, caught).' },
        { name: 'TOO_MANY_OPS', value: 14, category: 'InvalidArgument', message: 'too many operations in txn request', etcd: 'InvalidArgument: too many operations in txn request', doc: 'A TXN list longer than maxTxnOps allows.' },
        { name: 'DUPLICATE_KEY', value: 15, category: 'InvalidArgument', message: 'duplicate key given in txn request', etcd: 'InvalidArgument: duplicate key given in txn request', doc: 'A TXN writes a key twice.' },
        { name: 'LEASE_TTL_TOO_LARGE', value: 16, category: 'OutOfRange', message: 'too large lease TTL', etcd: 'OutOfRange: too large lease TTL', doc: 'A TTL above 9,000,000,000 seconds.' },
        { name: 'LEASE_EXISTS', value: 17, category: 'FailedPrecondition', message: 'lease already exists', etcd: 'FailedPrecondition: lease already exists', doc: 'A LEASE_GRANT of an id already granted.' },
        { name: 'TXN_TOO_DEEP', value: 18, category: 'InvalidArgument', message: 'txn request is nested too deeply', etcd: '— (etcd bounds nesting only through request size and --max-txn-ops)', doc: 'TXNs nested deeper than maxTxnDepth.' },
      ],
    },
  ],
};
