import { H_ATTN } from '../ring/lane-layout.js';
import { ATTN_BYTE, C_ATTN_RD, C_ATTN_WR } from './pacer-layout.js';

/**
 * Lanes that need the pacer now, outside their schedule: a parked lane that got audio, a lane
 * that was cleared. Main is the only writer and the pacer the only reader (single producer, single
 * consumer), so two int32 counters in the control block suffice. The lane's ATTN flag keeps each
 * lane in the ring at most once, so a ring with a slot per lane never overflows, and the pacer
 * visits only these lanes and the ones whose time has come, never every lane.
 */
export class AttentionWriter {
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly mask: number;
  private wr: number;

  constructor(control: SharedArrayBuffer, slots: number) {
    this.ctl = new Int32Array(control);
    this.ring = new Int32Array(control, ATTN_BYTE, slots);
    this.mask = slots - 1;
    this.wr = Atomics.load(this.ctl, C_ATTN_WR);
  }

  /**
   * A new pacer worker is about to start (none is running): it opens and looks at every lane
   * anyway, so pending entries and flags are dropped rather than left to a reader that never
   * knew them.
   */
  reset(headers: Iterable<Int32Array>): void {
    for (const h of headers) Atomics.store(h, H_ATTN, 0);
    Atomics.store(this.ctl, C_ATTN_RD, this.wr);
  }

  /** Put `lane` in the ring unless it is there already. True when it was added. */
  push(lane: number, laneHeader: Int32Array): boolean {
    if (Atomics.exchange(laneHeader, H_ATTN, 1) !== 0) return false;
    this.ring[this.wr & this.mask] = lane;
    this.wr = (this.wr + 1) | 0;
    Atomics.store(this.ctl, C_ATTN_WR, this.wr);
    return true;
  }
}

export class AttentionReader {
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly mask: number;

  constructor(control: SharedArrayBuffer, slots: number) {
    this.ctl = new Int32Array(control);
    this.ring = new Int32Array(control, ATTN_BYTE, slots);
    this.mask = slots - 1;
  }

  /**
   * Hand every lane index queued so far to `visit`, oldest first. If the ring ever held more than
   * its slots (it cannot while each lane is in it at most once; this is the belt to those braces),
   * entries were overwritten: `lost` is called instead, to look at every lane.
   */
  drain(visit: (lane: number) => void, lost: () => void): void {
    let rd = Atomics.load(this.ctl, C_ATTN_RD);
    const wr = Atomics.load(this.ctl, C_ATTN_WR);
    if (((wr - rd) | 0) > this.ring.length) {
      Atomics.store(this.ctl, C_ATTN_RD, wr);
      lost();
      return;
    }
    while (rd !== wr) {
      const lane = this.ring[rd & this.mask]!;
      rd = (rd + 1) | 0;
      Atomics.store(this.ctl, C_ATTN_RD, rd);
      visit(lane);
    }
  }
}
