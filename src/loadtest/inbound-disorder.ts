import { ErrorCodes, PtimeError } from '../errors.js';
import { seededRandom } from './seeded-random.js';

export interface DisorderOptions {
  /** % of chunks sent one or two ticks late, after newer ones (out of order). */
  latePct: number;
  /** % of chunks sent a second time, one tick later (duplicated). */
  duplicatePct: number;
  seed: number;
}

/** The most a chunk is sent late, in 20 ms ticks: within the Telnyx reorder window (4 frames). */
export const MAX_LATE_TICKS = 2;

/**
 * The order a carrier that does not guarantee it (Telnyx) might send a call's inbound media in:
 * some chunks one or two ticks late, after newer ones, some twice. Seeded, one per call.
 */
export class InboundDisorder {
  private readonly random: () => number;
  /** Chunks held back, with the tick (chunk number) they go out at. */
  private late: { chunk: number; due: number }[] = [];
  private again: number[] = [];
  private readonly out: number[] = [];
  /** Chunks sent after a newer one, and chunks sent twice. */
  sentLate = 0;
  duplicated = 0;

  constructor(private readonly o: DisorderOptions) {
    for (const [name, v] of [
      ['latePct', o.latePct],
      ['duplicatePct', o.duplicatePct],
    ] as const) {
      if (!Number.isFinite(v) || v < 0 || v > 100)
        throw new PtimeError(ErrorCodes.INVALID_OPTION, `${name} must be a percentage from 0 to 100 (got ${v})`);
    }
    this.random = seededRandom(o.seed);
  }

  /**
   * Chunk `chunk` (they count 1, 2, 3… one per tick) is due: the chunks to send now, in order.
   * The array is reused on the next call.
   */
  next(chunk: number): readonly number[] {
    const out = this.out;
    out.length = 0;
    if (this.random() * 100 < this.o.latePct) {
      this.late.push({ chunk, due: chunk + 1 + Math.floor(this.random() * MAX_LATE_TICKS) });
      this.sentLate++;
    } else out.push(chunk);
    for (const c of this.again) out.push(c);
    this.again = [];
    if (this.late.length > 0) {
      for (const l of this.late) if (l.due <= chunk) out.push(l.chunk);
      this.late = this.late.filter((l) => l.due > chunk);
    }
    for (const c of out) {
      if (this.random() * 100 < this.o.duplicatePct) {
        this.again.push(c);
        this.duplicated++;
      }
    }
    return out;
  }

  /** The stream ends: the chunks still held back go now (newest-first order is already broken). */
  drain(): number[] {
    const rest = this.late.map((l) => l.chunk);
    this.late = [];
    this.again = [];
    return rest;
  }
}
