import {
  H_FRAME_BYTES,
  H_GEN,
  H_MAGIC,
  H_OWNER,
  H_PAUSED,
  H_RD,
  H_SLOTS,
  H_STATE,
  H_TALK_END,
  H_VERSION,
  H_WR,
  LANE_MAGIC,
  LANE_VERSION,
  S_GEN,
  S_KIND,
  S_VALUE,
  slotBytes,
  slotDataByte,
  slotWord,
} from './lane-layout.js';

/**
 * The consumer (pacer) side of one lane. It reads a slot in place and then commits with
 * compareExchange on RD; if main dropped or cleared that slot meanwhile the commit fails and the
 * caller discards what it read (see the drop-oldest note in lane-ring.ts). Reading in place means
 * the pacer encodes straight from the slot into its outgoing batch: no intermediate copy.
 */
export class LaneReader {
  readonly h: Int32Array;
  readonly bytes: Uint8Array;
  private readonly mask: number;
  /** One frame of this lane's wire format (fixed for the lane's life). */
  readonly frameBytes: number;
  private readonly slotBytes: number;
  private readonly slotWords: number;
  private rd = 0;

  constructor(sab: SharedArrayBuffer) {
    this.h = new Int32Array(sab);
    this.bytes = new Uint8Array(sab);
    if (this.h[H_MAGIC] !== LANE_MAGIC || this.h[H_VERSION] !== LANE_VERSION) {
      throw new Error('lane buffer has the wrong magic or version');
    }
    this.mask = this.h[H_SLOTS]! - 1;
    this.frameBytes = this.h[H_FRAME_BYTES]!;
    this.slotBytes = slotBytes(this.frameBytes);
    this.slotWords = this.slotBytes >> 2;
  }

  paused(): boolean {
    return Atomics.load(this.h, H_PAUSED) !== 0;
  }

  /** Slots queued (frames and marks). */
  depth(): number {
    return (Atomics.load(this.h, H_WR) - Atomics.load(this.h, H_RD)) | 0;
  }

  /** Empty because the app ended its talk here (see TALK_END in lane-layout.ts), not starved. */
  atTalkEnd(): boolean {
    return Atomics.load(this.h, H_RD) === Atomics.load(this.h, H_TALK_END);
  }

  isEmpty(): boolean {
    return Atomics.load(this.h, H_RD) === Atomics.load(this.h, H_WR);
  }

  /** Position at the head slot; false when the lane is empty. */
  begin(): boolean {
    this.rd = Atomics.load(this.h, H_RD);
    return this.rd !== Atomics.load(this.h, H_WR);
  }

  /** Kind of the head slot, or 0 when main moved RD since begin() (the read may be torn). */
  kind(): number {
    const kind = this.h[slotWord(this.rd, this.mask, this.slotWords) + S_KIND]!;
    return Atomics.load(this.h, H_RD) === this.rd ? kind : 0;
  }

  gen(): number {
    return this.h[slotWord(this.rd, this.mask, this.slotWords) + S_GEN]!;
  }

  value(): number {
    return this.h[slotWord(this.rd, this.mask, this.slotWords) + S_VALUE]!;
  }

  dataOffset(): number {
    return slotDataByte(this.rd, this.mask, this.slotBytes);
  }

  /** Take the head slot; false means it was dropped or cleared while we read it. */
  commit(): boolean {
    return Atomics.compareExchange(this.h, H_RD, this.rd, (this.rd + 1) | 0) === this.rd;
  }

  laneGeneration(): number {
    return Atomics.load(this.h, H_GEN);
  }

  owner(): number {
    return Atomics.load(this.h, H_OWNER);
  }

  setState(state: number): void {
    Atomics.store(this.h, H_STATE, state);
  }

  bump(word: number): void {
    Atomics.store(this.h, word, (this.h[word]! + 1) | 0);
  }
}
