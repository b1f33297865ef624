/** Something the pacer visits at a time: `heapIndex` is the queue's bookkeeping (-1 = not queued). */
export interface Visitable {
  nextVisit: number;
  heapIndex: number;
}

/**
 * The lanes that have a schedule, ordered by when they next need the pacer (a binary min-heap
 * with positions kept in the items, so a lane can be moved or removed in O(log n)). The pacer pops
 * only the lanes due at a wake, so the cost of a wake follows the lanes due, not the lanes open.
 */
export class VisitQueue<T extends Visitable> {
  /**
   * Items in [0, n); the slots past n hold undefined. The array never shrinks: push/pop let V8
   * trim and regrow its store as the heap breathes by a wake's worth of lanes, an allocation per
   * wake on the pacer thread.
   */
  private readonly heap: (T | undefined)[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** When the earliest item is due; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.heap[0]!.nextVisit : Number.POSITIVE_INFINITY;
  }

  /** Insert, or move to its new `nextVisit`. */
  set(item: T): void {
    if (item.heapIndex < 0) {
      item.heapIndex = this.n;
      this.heap[this.n++] = item;
      this.up(item.heapIndex);
    } else {
      this.up(item.heapIndex);
      this.down(item.heapIndex);
    }
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.heap[--this.n]!;
    this.heap[this.n] = undefined; // no stale reference keeps a closed lane alive
    if (i === this.n) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(i);
  }

  /** Remove and return the earliest item if it is due at `now`; undefined otherwise. */
  popDue(now: number): T | undefined {
    if (this.n === 0) return undefined;
    const top = this.heap[0]!;
    if (top.nextVisit > now) return undefined;
    this.remove(top);
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.nextVisit <= item.nextVisit) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = this.n;
    const item = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.nextVisit < h[c]!.nextVisit) c++;
      const child = h[c]!;
      if (child.nextVisit >= item.nextVisit) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = item;
    item.heapIndex = i;
  }
}
