import type { PacerOptions } from '../pacer/pacer-layout.js';
import type { ResolvedOptions } from './engine-options.js';

/** The pacer's options from the engine's: one place, so the benchmarks pace exactly as the engine does. */
export function pacerOptionsOf(o: ResolvedOptions): PacerOptions {
  return {
    lead: o.lead,
    spinUs: o.spinUs,
    // The spin follows the measured overshoot unless its floor and ceiling are both spinUs.
    adaptiveSpin: o.spinMaxUs > 0 || o.spinMinUs < o.spinUs,
    spinMinUs: Math.min(o.spinMinUs, o.spinUs),
    spinMaxUs: Math.max(o.spinUs, o.spinMaxUs),
    phases: o.phases,
    lanesPerWake: o.lanesPerWake,
    catchUpFrames: o.catchUpFrames,
    lateMs: 2,
    // 320 ms of wakes at 4 phases: a longer main stall holds frames in their lanes (where they
    // wait as well as in batches, main sends neither) instead of making the pacer allocate more
    // batch buffers, each a 64 KB step in its malloc arena that stays.
    maxInflightBatches: 64,
    nice: o.pacerNice ?? null,
    timerSlackNs: o.pacerTimerSlackUs > 0 ? o.pacerTimerSlackUs * 1000 : null,
  };
}
