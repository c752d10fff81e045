/**
 * An order-statistic B+tree over string keys: keys stay sorted (JS string order, which for the
 * engine's latin1 keys is bytewise memcmp order), every node knows how many entries it holds, so
 * "how many keys are < k" and "the entry at position p" cost O(log n), and ranges are walked leaf
 * by leaf through a doubly linked list. Chosen over @js-sdsl/ordered-map, whose iterators build a
 * Proxy per element read and whose `end().index` is off by one; arrays of up to 64 keys per node
 * also keep the tree shallow (4 levels for a million keys) and cache friendly.
 */

/** Entries (leaf) or children (inner) per node before it splits. */
const MAX = 64;
/** Below this a node tries to merge into a neighbour, so deletes cannot leave the tree sparse. */
const MIN = MAX >> 2;

class Leaf<V> {
  size = 0;
  keys: string[] = [];
  vals: V[] = [];
  prev: Leaf<V> | null = null;
  next: Leaf<V> | null = null;
}

class Inner<V> {
  /** Entries below this node. */
  size: number;
  /** keys[i] (i ≥ 1) is ≤ every key under children[i] and > every key under children[i − 1]; keys[0] is never read. */
  keys: string[];
  children: Node<V>[];
  /** sizes[i] = children[i].size, kept here so rank sums read one packed array, not 64 scattered nodes. */
  sizes: number[];

  constructor(keys: string[], children: Node<V>[], sizes: number[]) {
    this.keys = keys;
    this.children = children;
    this.sizes = sizes;
    let size = 0;
    for (const n of sizes) size += n;
    this.size = size;
  }
}

type Node<V> = Leaf<V> | Inner<V>;

/** First index whose key is ≥ key (the lower bound). */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of an inner node whose span holds key: the last i with keys[i] ≤ key, at least 0. */
function childIndex(keys: string[], key: string): number {
  let lo = 1;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function count<V>(node: Node<V>): number {
  return node instanceof Leaf ? node.keys.length : node.children.length;
}

export class BTree<V> {
  private root: Node<V> = new Leaf<V>();
  // Descent path of the last insert/delete, reused so writes allocate nothing but node splits.
  private readonly path: Inner<V>[] = [];
  private readonly slots: number[] = [];
  // Result of seek(): the leaf and slot of a position.
  private leaf: Leaf<V> = this.root as Leaf<V>;
  private slot = 0;

  get size(): number {
    return this.root.size;
  }

  clear(): void {
    const empty = new Leaf<V>();
    this.root = empty;
    this.leaf = empty;
    this.path.length = 0;
    this.slots.length = 0;
  }

  /** Number of keys < key, i.e. the position key has or would have. */
  rank(key: string): number {
    let node = this.root;
    let r = 0;
    while (node instanceof Inner) {
      const i = childIndex(node.keys, key);
      const sizes = node.sizes;
      for (let j = 0; j < i; j++) r += sizes[j]!;
      node = node.children[i]!;
    }
    return r + lowerBound(node.keys, key);
  }

  /** Values at positions [from, to), in key order. */
  slice(from: number, to: number): V[] {
    if (from < 0) from = 0;
    if (to > this.root.size) to = this.root.size;
    const n = to - from;
    if (n <= 0) return [];
    const out = new Array<V>(n);
    this.seek(from);
    let leaf: Leaf<V> | null = this.leaf;
    let i = this.slot;
    for (let k = 0; k < n; k++) {
      out[k] = leaf!.vals[i]!;
      if (++i === leaf!.keys.length) {
        leaf = leaf!.next;
        i = 0;
      }
    }
    return out;
  }

  /**
   * Visits up to n values starting at position `from`, towards larger keys or (descending) smaller
   * ones, until `visit` returns false.
   */
  scan(from: number, n: number, descending: boolean, visit: (value: V) => boolean): void {
    if (from < 0 || from >= this.root.size) return;
    this.seek(from);
    let leaf: Leaf<V> | null = this.leaf;
    let i = this.slot;
    while (n-- > 0 && leaf !== null) {
      if (!visit(leaf.vals[i]!)) return;
      if (descending) {
        if (--i < 0) {
          leaf = leaf.prev;
          i = leaf === null ? 0 : leaf.keys.length - 1;
        }
      } else if (++i === leaf.keys.length) {
        leaf = leaf.next;
        i = 0;
      }
    }
  }

  /** Adds key → value, or replaces the value of an existing key. Returns whether the key was new. */
  insert(key: string, value: V): boolean {
    const path = this.path;
    const slots = this.slots;
    let depth = 0;
    let node = this.root;
    while (node instanceof Inner) {
      const i = childIndex(node.keys, key);
      path[depth] = node;
      slots[depth++] = i;
      node = node.children[i]!;
    }
    const leaf = node;
    const at = lowerBound(leaf.keys, key);
    if (at < leaf.keys.length && leaf.keys[at] === key) {
      leaf.vals[at] = value;
      return false;
    }
    leaf.keys.splice(at, 0, key);
    leaf.vals.splice(at, 0, value);
    leaf.size++;
    for (let d = 0; d < depth; d++) {
      path[d]!.size++;
      path[d]!.sizes[slots[d]!]++;
    }
    if (leaf.keys.length <= MAX) return true;

    // Appending at the very end (ascending key loads) splits off just the new key, so the
    // tree fills its nodes instead of leaving every one half empty.
    let appending = leaf.next === null && at === leaf.keys.length - 1;
    let right: Node<V> = this.splitLeaf(leaf, appending ? MAX : leaf.keys.length >> 1);
    let separator = right.keys[0]!;
    for (let d = depth - 1; d >= 0; d--) {
      const parent = path[d]!;
      const slot = slots[d]! + 1;
      parent.keys.splice(slot, 0, separator);
      parent.children.splice(slot, 0, right);
      parent.sizes[slot - 1]! -= right.size;
      parent.sizes.splice(slot, 0, right.size);
      if (parent.children.length <= MAX) return true;
      appending = appending && slot === parent.children.length - 1;
      right = this.splitInner(parent, appending ? MAX : parent.children.length >> 1);
      separator = right.keys[0]!;
    }
    const old = this.root;
    this.root = new Inner<V>([old.keys[0] ?? separator, separator], [old, right], [old.size, right.size]);
    return true;
  }

  /** Removes key. Returns whether it was there. */
  delete(key: string): boolean {
    const path = this.path;
    const slots = this.slots;
    let depth = 0;
    let node = this.root;
    while (node instanceof Inner) {
      const i = childIndex(node.keys, key);
      path[depth] = node;
      slots[depth++] = i;
      node = node.children[i]!;
    }
    const leaf = node;
    const at = lowerBound(leaf.keys, key);
    if (at === leaf.keys.length || leaf.keys[at] !== key) return false;
    leaf.keys.splice(at, 1);
    leaf.vals.splice(at, 1);
    leaf.size--;
    for (let d = 0; d < depth; d++) {
      path[d]!.size--;
      path[d]!.sizes[slots[d]!]--;
    }

    let child: Node<V> = leaf;
    for (let d = depth - 1; d >= 0 && count(child) < MIN; d--) {
      const parent = path[d]!;
      const slot = slots[d]!;
      if (count(child) === 0) this.removeChild(parent, slot);
      else if (slot > 0 && count(parent.children[slot - 1]!) + count(child) <= MAX) this.merge(parent, slot - 1);
      else if (slot + 1 < parent.children.length && count(parent.children[slot + 1]!) + count(child) <= MAX) this.merge(parent, slot);
      child = parent;
    }
    while (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0]!;
    return true;
  }

  /** Points `leaf`/`slot` at position pos (0 ≤ pos < size). */
  private seek(pos: number): void {
    let node = this.root;
    while (node instanceof Inner) {
      const sizes = node.sizes;
      let i = 0;
      while (pos >= sizes[i]!) pos -= sizes[i++]!;
      node = node.children[i]!;
    }
    this.leaf = node;
    this.slot = pos;
  }

  /** Moves entries [at, end) of a full leaf into a new right neighbour and returns it. */
  private splitLeaf(leaf: Leaf<V>, at: number): Leaf<V> {
    const right = new Leaf<V>();
    right.keys = leaf.keys.splice(at);
    right.vals = leaf.vals.splice(at);
    right.size = right.keys.length;
    leaf.size = leaf.keys.length;
    right.prev = leaf;
    right.next = leaf.next;
    if (leaf.next !== null) leaf.next.prev = right;
    leaf.next = right;
    return right;
  }

  /** Moves children [at, end) of a full inner node into a new right sibling and returns it. */
  private splitInner(node: Inner<V>, at: number): Inner<V> {
    const right = new Inner<V>(node.keys.splice(at), node.children.splice(at), node.sizes.splice(at));
    node.size -= right.size;
    return right;
  }

  /** Drops the (empty) child at slot. */
  private removeChild(parent: Inner<V>, slot: number): void {
    const child = parent.children[slot]!;
    if (child instanceof Leaf) unlink(child);
    parent.children.splice(slot, 1);
    parent.keys.splice(slot, 1);
    parent.sizes.splice(slot, 1);
  }

  /** Moves everything of children[slot + 1] into children[slot] and drops the emptied one. */
  private merge(parent: Inner<V>, slot: number): void {
    const left = parent.children[slot]!;
    const right = parent.children[slot + 1]!;
    if (left instanceof Leaf) {
      const r = right as Leaf<V>;
      for (let i = 0; i < r.keys.length; i++) {
        left.keys.push(r.keys[i]!);
        left.vals.push(r.vals[i]!);
      }
      left.size = left.keys.length;
      unlink(r);
    } else {
      const r = right as Inner<V>;
      // r.keys[0] may be stale; the parent's separator is the accurate bound of r's first child.
      left.keys.push(parent.keys[slot + 1]!);
      for (let i = 1; i < r.keys.length; i++) left.keys.push(r.keys[i]!);
      for (let i = 0; i < r.children.length; i++) {
        left.children.push(r.children[i]!);
        left.sizes.push(r.sizes[i]!);
      }
      left.size += r.size;
    }
    parent.sizes[slot]! += parent.sizes[slot + 1]!;
    parent.children.splice(slot + 1, 1);
    parent.keys.splice(slot + 1, 1);
    parent.sizes.splice(slot + 1, 1);
  }
}

function unlink<V>(leaf: Leaf<V>): void {
  if (leaf.prev !== null) leaf.prev.next = leaf.next;
  if (leaf.next !== null) leaf.next.prev = leaf.prev;
  leaf.prev = leaf.next = null;
}
