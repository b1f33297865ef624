/** Something the pacer visits at a time: `heapIndex` is the queue's bookkeeping (-1 = not queued). */
export interface Visitable {
  nextVisit: number;
  heapIndex: number;
}

/**
 * The lanes that have a schedule, ordered by when they next need the pacer (a binary min-heap
 * with positions kept in the items, so a lane can be moved or removed in O(log n)). The pacer pops
 * only the lanes due at a wake, so the cost of a wake follows the lanes due, not the lanes open.
 *
 * The keys live in a Float64Array beside the items, taken from `nextVisit` when an item is set:
 * sifting compares keys in one contiguous array instead of reaching into a lane object and its
 * boxed double at every level, which after each 5 ms sleep are cache misses.
 */
export class VisitQueue<T extends Visitable> {
  /**
   * Items in [0, n); the slots past n hold undefined. The array never shrinks: push/pop let V8
   * trim and regrow its store as the heap breathes by a wake's worth of lanes, an allocation per
   * wake on the pacer thread.
   */
  private readonly heap: (T | undefined)[] = [];
  private keys = new Float64Array(64);
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** When the earliest item is due; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.keys[0]! : Number.POSITIVE_INFINITY;
  }

  /** Insert, or move to its new `nextVisit`. */
  set(item: T): void {
    const key = item.nextVisit;
    if (item.heapIndex < 0) {
      if (this.n === this.keys.length) {
        const grown = new Float64Array(this.keys.length * 2);
        grown.set(this.keys);
        this.keys = grown;
      }
      const i = this.n++;
      this.place(item, key, i);
      this.up(i);
    } else {
      const i = item.heapIndex;
      this.keys[i] = key;
      this.up(i);
      this.down(item.heapIndex);
    }
  }

  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const end = --this.n;
    const last = this.heap[end]!;
    const lastKey = this.keys[end]!;
    this.heap[end] = undefined; // no stale reference keeps a closed lane alive
    if (i === end) return;
    this.place(last, lastKey, i);
    this.up(i);
    this.down(last.heapIndex);
  }

  /** Remove and return the earliest item if it is due at `now`; undefined otherwise. */
  popDue(now: number): T | undefined {
    if (this.n === 0 || this.keys[0]! > now) return undefined;
    const top = this.heap[0]!;
    this.remove(top);
    return top;
  }

  private place(item: T, key: number, i: number): void {
    this.heap[i] = item;
    this.keys[i] = key;
    item.heapIndex = i;
  }

  private up(i: number): void {
    const h = this.heap;
    const k = this.keys;
    const item = h[i]!;
    const key = k[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      this.place(h[p]!, k[p]!, i);
      i = p;
    }
    this.place(item, key, i);
  }

  private down(i: number): void {
    const h = this.heap;
    const k = this.keys;
    const n = this.n;
    const item = h[i]!;
    const key = k[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && k[c + 1]! < k[c]!) c++;
      if (k[c]! >= key) break;
      this.place(h[c]!, k[c]!, i);
      i = c;
    }
    this.place(item, key, i);
  }
}
