import { LaneRing } from '../ring/lane-ring.js';

export interface Lane {
  readonly index: number;
  readonly ring: LaneRing;
}

/**
 * Lanes are allocated on first use and recycled after a call ends, so memory follows the peak
 * number of calls, not a configured maximum. A recycled lane starts a new generation: whatever the
 * previous call left queued or in flight is dropped, never sent to the new call.
 */
export class LanePool {
  private readonly free: Lane[] = [];
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

  /** A lane, or null when maxLanes are in use. */
  acquire(): Lane | null {
    let lane = this.free.pop();
    if (!lane) {
      if (this.created >= this.maxLanes) return null;
      lane = { index: this.created++, ring: new LaneRing(this.bound, undefined, this.counterStart) };
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
    this.inUse--;
    this.free.push(lane);
  }
}
