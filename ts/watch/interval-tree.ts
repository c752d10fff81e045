/**
 * A centered interval tree over string intervals `[start, end)` (end undefined: unbounded),
 * built once from a list and queried by stabbing: every interval holding a point. The watch hub
 * keeps its range watchers in one, rebuilt when they change.
 */

export interface Interval<T> {
  start: string;
  /** Exclusive; undefined = no end. */
  end: string | undefined;
  value: T;
}

/** A centered interval tree node: the intervals holding `center`, sorted both ways, and the rest below. */
export interface IntervalNode<T> {
  center: string;
  byStart: Interval<T>[];
  byEnd: Interval<T>[];
  left: IntervalNode<T> | undefined;
  right: IntervalNode<T> | undefined;
}

function endAfter(end: string | undefined, q: string): boolean {
  return end === undefined || end > q;
}

export function buildIntervalTree<T>(intervals: Interval<T>[]): IntervalNode<T> | undefined {
  if (intervals.length === 0) return undefined;
  const starts = intervals.map((i) => i.start).sort();
  const center = starts[starts.length >> 1]!;
  const left: Interval<T>[] = [];
  const right: Interval<T>[] = [];
  const here: Interval<T>[] = [];
  for (const i of intervals) {
    if (!endAfter(i.end, center)) left.push(i);
    else if (i.start > center) right.push(i);
    else here.push(i);
  }
  const byStart = [...here].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const byEnd = [...here].sort((a, b) => (a.end === b.end ? 0 : a.end === undefined ? -1 : b.end === undefined ? 1 : a.end > b.end ? -1 : 1));
  return { center, byStart, byEnd, left: buildIntervalTree(left), right: buildIntervalTree(right) };
}

/** Calls `fn` for each interval of the tree holding `q`. */
export function stabIntervalTree<T>(node: IntervalNode<T> | undefined, q: string, fn: (value: T) => void): void {
  while (node !== undefined) {
    if (q < node.center) {
      for (const i of node.byStart) {
        if (i.start > q) break;
        fn(i.value);
      }
      node = node.left;
    } else {
      for (const i of node.byEnd) {
        if (!endAfter(i.end, q)) break;
        fn(i.value);
      }
      node = q === node.center ? undefined : node.right;
    }
  }
}
