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
  ) {}

  get active(): number {
    return this.inUse;
  }

  /** A lane, or null when maxLanes are in use. */
  acquire(): Lane | null {
    let lane = this.free.pop();
    if (!lane) {
      if (this.created >= this.maxLanes) return null;
      lane = { index: this.created++, ring: new LaneRing(this.bound) };
    }
    lane.ring.clear();
    this.inUse++;
    return lane;
  }

  release(lane: Lane): void {
    lane.ring.clear();
    this.inUse--;
    this.free.push(lane);
  }
}
