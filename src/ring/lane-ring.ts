import { ErrorCodes, PtimeError } from '../errors.js';
import {
  FRAME_BYTES,
  H_BOUND,
  H_DROPS,
  H_FRAME_BYTES,
  H_GEN,
  H_LATE,
  H_MAGIC,
  H_OWNER,
  H_PAUSED,
  H_RD,
  H_SLOTS,
  H_STATE,
  H_TALK_END,
  H_UNDERRUNS,
  H_VERSION,
  H_WR,
  KIND_FRAME,
  KIND_MARK,
  LANE_MAGIC,
  LANE_VERSION,
  MAX_QUEUE_FRAMES,
  S_GEN,
  S_KIND,
  S_VALUE,
  STATE_IDLE,
  laneBytes,
  slotBytes,
  slotDataByte,
  slotWord,
  slotsForBound,
} from './lane-layout.js';
import { MAX_FRAME_BYTES } from '../codec/audio-format.js';

/** What a push had to drop to stay within the bound. */
export const DROPPED_NONE = 0;
export const DROPPED_FRAME = KIND_FRAME;
export const DROPPED_MARK = KIND_MARK;

export function validateBound(bound: number): void {
  if (!Number.isInteger(bound) || bound < 1 || bound > MAX_QUEUE_FRAMES) {
    throw new PtimeError(
      ErrorCodes.QUEUE_BOUND,
      `queue bound must be an integer from 1 to ${MAX_QUEUE_FRAMES} frames (got ${String(bound)})`,
    );
  }
}

/**
 * The producer (main-thread) side of one lane. Main is the only writer of WR, GEN, DROPS and the
 * slots; RD is shared with the pacer and changed only with compareExchange.
 *
 * Drop-oldest scheme: the producer advances RD with compareExchange when the lane is full, and the
 * consumer copies a slot first and then commits with compareExchange, discarding its copy when
 * that fails (crossbeam's force_push). Chosen over "consumer skips ahead" because the producer
 * learns at once what it dropped (a frame, or a mark it must report) and counts it where the
 * overflow happens, and over a seqlock because clear() needs the same RD move anyway: one
 * mechanism serves overflow, clear and lane reuse.
 */
export class LaneRing {
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly bound: number;
  /** One 20 ms frame of this lane's wire format. */
  readonly frameBytes: number;
  private readonly slotBytes: number;
  private readonly slotWords: number;
  private readonly h: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly mask: number;
  /** Cached WR: main is its only writer, so it never has to load it. */
  private wr: number;
  /** Mark id of the last mark a push dropped (valid right after a push returned DROPPED_MARK). */
  droppedMarkId = 0;

  /**
   * `counterStart` (new buffers only) starts every free-running counter of the lane there instead
   * of 0: tests start them just below the int32 wrap to run through it.
   */
  constructor(bound: number, sab?: SharedArrayBuffer, counterStart = 0, frameBytes = FRAME_BYTES) {
    validateBound(bound);
    if (!Number.isInteger(frameBytes) || frameBytes < 1 || frameBytes > MAX_FRAME_BYTES) {
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `lane frame size must be 1 to ${MAX_FRAME_BYTES} bytes (got ${String(frameBytes)})`,
      );
    }
    this.bound = bound;
    this.frameBytes = frameBytes;
    this.slotBytes = slotBytes(frameBytes);
    this.slotWords = this.slotBytes >> 2;
    this.slots = slotsForBound(bound);
    this.sab = sab ?? new SharedArrayBuffer(laneBytes(this.slots, frameBytes));
    if (this.sab.byteLength !== laneBytes(this.slots, frameBytes)) {
      throw new PtimeError(ErrorCodes.INVALID_OPTION, 'lane buffer does not match the queue bound');
    }
    this.h = new Int32Array(this.sab);
    this.bytes = new Uint8Array(this.sab);
    this.mask = this.slots - 1;
    if (!sab && counterStart !== 0) {
      for (const word of [H_WR, H_RD, H_GEN, H_DROPS, H_OWNER, H_UNDERRUNS, H_LATE])
        Atomics.store(this.h, word, counterStart | 0);
    }
    Atomics.store(this.h, H_MAGIC, LANE_MAGIC);
    Atomics.store(this.h, H_VERSION, LANE_VERSION);
    Atomics.store(this.h, H_SLOTS, this.slots);
    Atomics.store(this.h, H_BOUND, bound);
    Atomics.store(this.h, H_FRAME_BYTES, frameBytes);
    this.wr = Atomics.load(this.h, H_WR);
    // No talk has ended yet: RD can only meet this after 2^32 slots.
    if (!sab) Atomics.store(this.h, H_TALK_END, (this.wr - 1) | 0);
  }

  get generation(): number {
    return this.h[H_GEN]!;
  }

  /** Slots queued (frames and marks) not yet taken by the pacer. */
  depth(): number {
    return (this.wr - Atomics.load(this.h, H_RD)) | 0;
  }

  /** A counter word of the lane header (see lane-layout.ts). */
  read(word: number): number {
    return Atomics.load(this.h, word);
  }

  get drops(): number {
    return this.h[H_DROPS]!;
  }

  get owner(): number {
    return this.h[H_OWNER]!;
  }

  /**
   * The lane goes to a new call. Bumped before anything of that call is written, so the pacer,
   * which checks OWNER before it commits a frame, cannot send it under the previous call's prefix.
   */
  newOwner(): number {
    const owner = (this.h[H_OWNER]! + 1) | 0;
    Atomics.store(this.h, H_OWNER, owner);
    return owner;
  }

  /**
   * This new ring takes over lane index of `old` (a lane rebuilt for another frame size): its
   * generation and owner continue from the old ring's, so nothing the old ring handed out (a
   * record in flight, a sender's stale check) can match the new one by accident.
   */
  continueFrom(old: LaneRing): void {
    Atomics.store(this.h, H_GEN, (old.generation + 1) | 0);
    Atomics.store(this.h, H_OWNER, old.owner);
  }

  /** Carrier flow control (Asterisk MEDIA_XOFF/XON): while paused the pacer sends nothing from the lane. */
  setPaused(paused: boolean): void {
    Atomics.store(this.h, H_PAUSED, paused ? 1 : 0);
  }

  get paused(): boolean {
    return Atomics.load(this.h, H_PAUSED) !== 0;
  }

  /** True when the pacer has parked this lane, so a write must wake it. */
  pacerIdle(): boolean {
    return Atomics.load(this.h, H_STATE) === STATE_IDLE;
  }

  /** The talk ends after everything queued so far: running dry here is not an underrun. */
  markTalkEnd(): void {
    Atomics.store(this.h, H_TALK_END, this.wr);
  }

  /** Queue one frame copied from `src[offset..offset+frameBytes)`. Never blocks, never throws. */
  pushFrame(src: Uint8Array, offset: number): number {
    const dropped = this.makeRoom();
    const w = slotWord(this.wr, this.mask, this.slotWords);
    this.h[w + S_KIND] = KIND_FRAME;
    this.h[w + S_GEN] = this.h[H_GEN]!;
    this.h[w + S_VALUE] = this.frameBytes;
    const at = slotDataByte(this.wr, this.mask, this.slotBytes);
    // A whole-frame source (the usual case) is copied without a subarray view: one object less
    // per frame on main.
    if (offset === 0 && src.length === this.frameBytes) this.bytes.set(src, at);
    else this.bytes.set(src.subarray(offset, offset + this.frameBytes), at);
    this.publish();
    return dropped;
  }

  pushMark(markId: number): number {
    const dropped = this.makeRoom();
    const w = slotWord(this.wr, this.mask, this.slotWords);
    this.h[w + S_KIND] = KIND_MARK;
    this.h[w + S_GEN] = this.h[H_GEN]!;
    this.h[w + S_VALUE] = markId;
    this.publish();
    return dropped;
  }

  /**
   * Empty the lane in O(1) and start a new generation: anything queued before, including records
   * the pacer already handed back but main has not sent, carries the old generation and is dropped.
   * Returns the number of slots discarded from the ring.
   */
  clear(): number {
    Atomics.store(this.h, H_GEN, (this.h[H_GEN]! + 1) | 0);
    let rd = Atomics.load(this.h, H_RD);
    while (rd !== this.wr) {
      const seen = Atomics.compareExchange(this.h, H_RD, rd, this.wr);
      if (seen === rd) return (this.wr - rd) | 0;
      rd = seen;
    }
    return 0;
  }

  /**
   * Drop the oldest slot if more than `keep` are queued: DROPPED_FRAME or DROPPED_MARK (its id in
   * droppedMarkId) for what went, DROPPED_NONE when `keep` or fewer are left (the pacer may have
   * taken some meanwhile). A latency bound calls it until it says none.
   */
  dropOldestAbove(keep: number): number {
    return this.dropWhileAtLeast(keep + 1);
  }

  private makeRoom(): number {
    return this.dropWhileAtLeast(this.bound);
  }

  private dropWhileAtLeast(limit: number): number {
    let rd = Atomics.load(this.h, H_RD);
    while (((this.wr - rd) | 0) >= limit) {
      // Only main writes slots, so the kind read here is stable even if the pacer races us for RD.
      const w = slotWord(rd, this.mask, this.slotWords);
      const kind = this.h[w + S_KIND]!;
      const value = this.h[w + S_VALUE]!;
      const seen = Atomics.compareExchange(this.h, H_RD, rd, (rd + 1) | 0);
      if (seen === rd) {
        if (kind === KIND_MARK) {
          this.droppedMarkId = value;
          return DROPPED_MARK;
        }
        Atomics.store(this.h, H_DROPS, (this.h[H_DROPS]! + 1) | 0);
        return DROPPED_FRAME;
      }
      rd = seen; // the pacer took it meanwhile: there may be room now
    }
    return DROPPED_NONE;
  }

  private publish(): void {
    this.wr = (this.wr + 1) | 0;
    // The store is sequentially consistent, so the slot written above is visible before WR moves.
    Atomics.store(this.h, H_WR, this.wr);
  }
}
