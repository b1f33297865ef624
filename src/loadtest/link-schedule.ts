import { ErrorCodes, PtimeError } from '../errors.js';
import { seededRandom } from './seeded-random.js';

/** What one direction of an impaired TCP path does to the bytes crossing it. */
export interface LinkImpairment {
  /** One-way delay, ms. */
  delayMs: number;
  /** Each read's delay varies uniformly within ± this many ms (bytes are never reordered). */
  jitterMs: number;
  /** Chance that a 20 ms interval starts a stall: a lost segment waiting for its retransmission. */
  stallChance: number;
  /** A stall holds the direction for a time drawn uniformly from [min, max] ms. */
  stallMs: readonly [number, number];
}

/** 40 ms ± 10 ms, and 1 % of 20 ms intervals held 200–400 ms (a retransmission timeout). */
export const TYPICAL_IMPAIRMENT: LinkImpairment = { delayMs: 40, jitterMs: 10, stallChance: 0.01, stallMs: [200, 400] };

/** Stalls are drawn per interval of this length, from the link's start. */
export const STALL_SLOT_MS = 20;
/** Largest delay, jitter or stall accepted, ms: an impairment, not a dead link. */
export const MAX_IMPAIRMENT_MS = 60_000;

function check(name: string, v: number, max: number): void {
  if (!Number.isFinite(v) || v < 0 || v > max)
    throw new PtimeError(ErrorCodes.INVALID_OPTION, `${name} must be a number from 0 to ${max} (got ${String(v)})`);
}

/** Throws PTIME_ERR_INVALID_OPTION naming the limit an impairment is outside of. */
export function validateImpairment(i: LinkImpairment): void {
  check('delayMs', i.delayMs, MAX_IMPAIRMENT_MS);
  check('jitterMs', i.jitterMs, i.delayMs);
  check('stallChance', i.stallChance, 1);
  check('stallMs[0]', i.stallMs[0], MAX_IMPAIRMENT_MS);
  check('stallMs[1]', i.stallMs[1], MAX_IMPAIRMENT_MS);
  if (i.stallMs[1] < i.stallMs[0])
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `stallMs must be [min, max] with min <= max (got ${i.stallMs.join(', ')})`,
    );
}

/**
 * When the bytes read from one direction of a TCP connection may be delivered: after the delay
 * and its jitter, never before bytes read earlier (TCP delivers in order, so jitter spaces the
 * deliveries and never swaps them), and not during a stall. Stalls are drawn per 20 ms interval
 * from their own seeded stream, so the same seed gives the same stall times however the traffic
 * was chunked; a stall in progress is not lost again. Socket-free: times are the caller's, in ms.
 */
export class LinkSchedule {
  private readonly jitter: () => number;
  private readonly stallDraw: () => number;
  private last = Number.NEGATIVE_INFINITY;
  private nextSlot: number;
  private stallStart = Number.NEGATIVE_INFINITY;
  private stallEnd = Number.NEGATIVE_INFINITY;
  /** Stalls drawn so far (each one held whatever was due during it). */
  stalls = 0;

  constructor(
    private readonly impairment: LinkImpairment,
    seed: number,
    startAt: number,
  ) {
    validateImpairment(impairment);
    this.jitter = seededRandom(seed);
    this.stallDraw = seededRandom(seed ^ 0x5bd1e995);
    this.nextSlot = startAt;
  }

  /** Bytes read at `now`: when they may be delivered. */
  deliveryAt(now: number): number {
    const i = this.impairment;
    const nominal = now + i.delayMs + (this.jitter() * 2 - 1) * i.jitterMs;
    const at = this.afterStalls(Math.max(nominal, this.last));
    this.last = at;
    return at;
  }

  private afterStalls(at: number): number {
    const i = this.impairment;
    while (this.nextSlot <= at) {
      const slot = this.nextSlot;
      this.nextSlot += STALL_SLOT_MS;
      if (slot < this.stallEnd) continue;
      if (this.stallDraw() < i.stallChance) {
        this.stallStart = slot;
        this.stallEnd = slot + i.stallMs[0] + this.stallDraw() * (i.stallMs[1] - i.stallMs[0]);
        this.stalls++;
      }
    }
    // The slots a stall covers draw nothing, so moving `at` to its end needs no further draws.
    return at >= this.stallStart && at < this.stallEnd ? this.stallEnd : at;
  }
}
