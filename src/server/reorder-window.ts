/**
 * Puts a carrier's inbound media back in sequence-number order when the carrier does not
 * guarantee it (Telnyx). Holds at most `size` frames that arrived ahead of a missing one; when
 * more arrive, the missing one is given up for lost and the run goes on from the oldest held.
 * A frame older than what was already delivered (late, or a duplicate) is dropped.
 */
export class ReorderWindow<T> {
  private next: number | null = null;
  private readonly held = new Map<number, T>();
  /** Frames that arrived out of order and were delivered in order. */
  reordered = 0;
  /** Frames that came after later ones were already delivered (dropped). */
  late = 0;
  /** Sequence numbers given up for lost when the window filled. */
  skipped = 0;

  constructor(private readonly size: number) {}

  push(seq: number, item: T, deliver: (item: T) => void): void {
    if (this.next === null) this.next = seq;
    if (seq < this.next || this.held.has(seq)) {
      this.late++;
      return;
    }
    if (seq > this.next) {
      this.held.set(seq, item);
      this.reordered++;
      if (this.held.size > this.size) {
        const oldest = Math.min(...this.held.keys());
        this.skipped += oldest - this.next;
        this.next = oldest;
        this.release(deliver);
      }
      return;
    }
    deliver(item);
    this.next = seq + 1;
    this.release(deliver);
  }

  /** Deliver everything held, in order (a non-media event or the end of the stream is next). */
  flush(deliver: (item: T) => void): void {
    const seqs = [...this.held.keys()].sort((a, b) => a - b);
    for (const s of seqs) {
      deliver(this.held.get(s)!);
      this.next = s + 1;
    }
    this.held.clear();
  }

  private release(deliver: (item: T) => void): void {
    for (let item = this.held.get(this.next!); item !== undefined; item = this.held.get(this.next!)) {
      this.held.delete(this.next!);
      // A frame counted as reordered when held is delivered now, in its place.
      deliver(item);
      this.next!++;
    }
  }
}
