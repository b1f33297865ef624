import { FRAME_BYTES } from '../ring/lane-layout.js';
import { LaneRing } from '../ring/lane-ring.js';

export interface Lane {
  readonly index: number;
  /** Replaced (same index) only while the lane is free, when it is rebuilt for another frame size. */
  ring: LaneRing;
}

/**
 * Lanes are allocated on first use and recycled after a call ends, so memory follows the peak
 * number of calls, not a configured maximum. A recycled lane starts a new generation: whatever the
 * previous call left queued or in flight is dropped, never sent to the new call.
 *
 * A lane's slots fit one frame size (its call's wire format), so free lanes are kept per size and
 * a call takes one of its own size. With every index in use, a free lane of another size is
 * rebuilt for the one needed rather than refusing the call: maxLanes stays a count of calls.
 */
export class LanePool {
  private readonly free = new Map<number, Lane[]>();
  private freeCount = 0;
  private created = 0;
  private inUse = 0;

  constructor(
    private readonly bound: number,
    private readonly maxLanes: number,
    /** Where new lanes start their counters (tests run them through the int32 wrap). */
    private readonly counterStart = 0,
  ) {}

  get active(): number {
    return this.inUse;
  }

  /** A lane whose frames are `frameBytes` long, or null when maxLanes are in use. */
  acquire(frameBytes = FRAME_BYTES): Lane | null {
    let lane = this.free.get(frameBytes)?.pop();
    if (lane) this.freeCount--;
    else if (this.created < this.maxLanes) {
      lane = { index: this.created++, ring: new LaneRing(this.bound, undefined, this.counterStart, frameBytes) };
    } else {
      lane = this.rebuildFree(frameBytes);
      if (!lane) return null;
    }
    // Cleared (dropping whatever the last call left), then the new owner, before anything of the
    // new call is written: see H_OWNER in lane-layout.ts.
    lane.ring.clear();
    lane.ring.newOwner();
    this.inUse++;
    return lane;
  }

  release(lane: Lane): void {
    lane.ring.clear();
    lane.ring.setPaused(false);
    this.inUse--;
    this.freeCount++;
    const list = this.free.get(lane.ring.frameBytes);
    if (list) list.push(lane);
    else this.free.set(lane.ring.frameBytes, [lane]);
  }

  private rebuildFree(frameBytes: number): Lane | undefined {
    if (this.freeCount === 0) return undefined;
    for (const list of this.free.values()) {
      const lane = list.pop();
      if (!lane) continue;
      this.freeCount--;
      const ring = new LaneRing(this.bound, undefined, this.counterStart, frameBytes);
      ring.continueFrom(lane.ring);
      lane.ring = ring;
      return lane;
    }
    return undefined;
  }
}
