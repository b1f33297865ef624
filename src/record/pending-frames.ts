/**
 * The bot's frames queued and not yet played, oldest first, each with its play time: a ring of
 * copies in one buffer, so recording a frame allocates nothing (a Buffer's slice would be a view
 * of the app's buffer, which it may reuse once send() returns). Grows by doubling; its size
 * follows the call's queue.
 */
export class PendingFrames {
  private bytes: Uint8Array;
  private times: Float64Array;
  private cap: number;
  private head = 0;
  length = 0;

  constructor(private readonly frameBytes: number) {
    this.cap = 64;
    this.bytes = new Uint8Array(this.cap * frameBytes);
    this.times = new Float64Array(this.cap);
  }

  push(src: Uint8Array, offset: number, playAt: number): void {
    if (this.length === this.cap) this.grow();
    const slot = (this.head + this.length) & (this.cap - 1);
    this.bytes.set(src.subarray(offset, offset + this.frameBytes), slot * this.frameBytes);
    this.times[slot] = playAt;
    this.length++;
  }

  playAt(i: number): number {
    return this.times[(this.head + i) & (this.cap - 1)]!;
  }

  setPlayAt(i: number, t: number): void {
    this.times[(this.head + i) & (this.cap - 1)] = t;
  }

  /** Frame i's bytes: a view, valid until the next change. */
  frame(i: number): Uint8Array {
    const at = ((this.head + i) & (this.cap - 1)) * this.frameBytes;
    return this.bytes.subarray(at, at + this.frameBytes);
  }

  /** Forget the oldest `n`. */
  shift(n: number): void {
    this.head = (this.head + n) & (this.cap - 1);
    this.length -= n;
  }

  /** Take frame i out; the ones after it move up (rare: a frame dropped from a full queue). */
  removeAt(i: number): void {
    for (let j = i; j < this.length - 1; j++) {
      this.setPlayAt(j, this.playAt(j + 1));
      this.frame(j).set(this.frame(j + 1));
    }
    this.length--;
  }

  clear(): void {
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const bytes = new Uint8Array(cap * this.frameBytes);
    const times = new Float64Array(cap);
    for (let i = 0; i < this.length; i++) {
      bytes.set(this.frame(i), i * this.frameBytes);
      times[i] = this.playAt(i);
    }
    this.bytes = bytes;
    this.times = times;
    this.cap = cap;
    this.head = 0;
  }
}
