import {
  FRAME_MS,
  H_ATTN,
  H_LATE,
  H_UNDERRUNS,
  KIND_FRAME,
  KIND_MARK,
  STATE_IDLE,
  STATE_PLAYING,
} from '../ring/lane-layout.js';
import { LaneReader } from '../ring/lane-reader.js';
import type { AttentionReader } from './attention-ring.js';
import { BatchWriter } from './batch-writer.js';
import { ItemList } from './item-list.js';
import { base64Length, writeBase64 } from './base64-writer.js';
import { wsHeaderBytes, writeWsHeader } from './ws-frame.js';
import { FRAMES_SHIFT, MAX_PARKED_BATCHES, type LaneWire, type PacerOptions } from './pacer-layout.js';
import { VisitQueue } from './visit-queue.js';

/** The largest message payload: Exotel's batches of L16 (see LaneWire). */
const MAX_BATCH_BYTES = 64 * 1024;

/** The pacer's private view of one lane. */
class PacedLane {
  state = STATE_IDLE;
  /** Real-time play slot of the next frame (the caller starts hearing it then): t0 + k * 20 ms. */
  nextSlot = 0;
  /** When the pacer next has to look at this lane; Infinity while parked. */
  nextVisit = Number.POSITIVE_INFINITY;
  heapIndex = -1;
  /** Which of the `phases` start slots this lane's schedule is on (-1 while parked). */
  phase = -1;
  /** In this step's list of lanes to visit regardless of their schedule. */
  urgent = false;
  /** Main gave the lane to another call; nothing is read from it until that call's `open`. */
  stale = false;
  seenGen: number;
  framesThisSpell = 0;
  /** A batching lane waiting, parked, for a full first message: since when (-1: not waiting). */
  waitingSince = -1;
  readonly prefix: Uint8Array;
  readonly suffix: Uint8Array;
  readonly binary: boolean;
  readonly frameBytes: number;
  /** Frames one message may carry (1 but for batching carriers). */
  readonly perMessage: number;
  /** Bytes of the largest message this lane builds. */
  readonly wireBytes: number;
  /** WebSocket header bytes in front of a one-frame message (whose size is fixed). */
  readonly headerBytes: number;

  constructor(
    readonly index: number,
    readonly owner: number,
    readonly reader: LaneReader,
    wire: LaneWire,
  ) {
    this.seenGen = reader.laneGeneration();
    this.prefix = wire.prefix;
    this.suffix = wire.suffix;
    this.binary = wire.binary;
    this.frameBytes = reader.frameBytes;
    this.perMessage = Math.max(1, Math.min(wire.framesPerMessage | 0, Math.floor(MAX_BATCH_BYTES / reader.frameBytes)));
    const payload = this.frameBytes * this.perMessage;
    this.wireBytes = this.prefix.length + (this.binary ? payload : base64Length(payload)) + this.suffix.length;
    this.headerBytes = wsHeaderBytes(this.wireBytes);
    reader.setState(STATE_IDLE);
  }
}

/**
 * The pacing logic, free of threads and clocks: `step(now)` does everything due at `now` and says
 * when it next needs to run. The worker loop (pacer-loop.ts) supplies the clock and the sleeping;
 * tests drive it with a fake clock.
 *
 * Each lane keeps an absolute schedule: frame k plays at t0 + k*20 ms and is handed back (to be
 * sent) `lead` frames before that. A lane starts when audio arrives on a parked lane (t0 snapped up to the phase grid),
 * parks when the far end's buffer would run dry (no burst after silence: the next audio starts a
 * new schedule), catches up at most `catchUpFrames` when the pacer itself woke late and re-bases
 * beyond that.
 *
 * A step visits only the lanes due by `now` (a min-heap on their next visit) and the lanes main
 * flagged (the attention ring: new audio on a parked lane, a clear), so parked lanes cost nothing.
 */
export class PacerCore {
  readonly batch: BatchWriter;
  private readonly lanes: (PacedLane | undefined)[] = [];
  private readonly queue = new VisitQueue<PacedLane>();
  private urgent = new ItemList<PacedLane>();
  private spare = new ItemList<PacedLane>();
  /** Where a batching lane's frames are gathered before they are encoded as one payload. */
  private scratch = new Uint8Array(0);
  private readonly due = new ItemList<PacedLane>();
  private openCount = 0;
  private readonly leadMs: number;
  private readonly phases: number;
  private readonly lanesPerWake: number;
  /** Playing lanes per start phase: each phase with lanes is one wake per period. */
  private readonly perPhase: Int32Array;
  private readonly catchUpMs: number;
  private readonly lateMs: number;
  private readonly maxPerVisit: number;
  /** Lane headers by index, kept after close: an attention entry may name a lane closed since. */
  private readonly headers: (Int32Array | undefined)[] = [];
  /** Indices whose attention entry was taken before this pacer knew the lane (flag still set). */
  private readonly orphans = new Set<number>();
  private readonly attend = (index: number): void => {
    // The entry is taken: reset the flag now, so the lane's next write puts it back. Only here,
    // never elsewhere: a reset while the entry is still unread would let the lane in twice.
    const header = this.headers[index];
    if (header) Atomics.store(header, H_ATTN, 0);
    else this.orphans.add(index);
    const lane = this.lanes[index];
    if (lane) this.markUrgent(lane);
  };
  private readonly attendAll = (): void => {
    for (let i = 0; i < this.headers.length; i++) {
      const header = this.headers[i];
      if (header) Atomics.store(header, H_ATTN, 0);
      const lane = this.lanes[i];
      if (lane) this.markUrgent(lane);
    }
  };
  /** Frames built since start (for the loop's profile). */
  framesBuilt = 0;
  /** Lanes visited since start: a wake costs the lanes due and flagged, not the lanes open. */
  lanesVisited = 0;

  constructor(
    opts: PacerOptions,
    private readonly attention: AttentionReader | null = null,
  ) {
    this.leadMs = opts.lead * FRAME_MS;
    this.phases = opts.phases;
    this.lanesPerWake = opts.lanesPerWake ?? 0;
    this.perPhase = new Int32Array(opts.phases);
    this.catchUpMs = opts.catchUpFrames * FRAME_MS;
    this.lateMs = opts.lateMs;
    this.maxPerVisit = opts.lead + opts.catchUpFrames + 1;
    // The gate lets maxInflightBatches + 1 out, one is being built, the rest may be parked.
    this.batch = new BatchWriter(opts.maxInflightBatches + MAX_PARKED_BATCHES + 2);
  }

  get laneCount(): number {
    return this.openCount;
  }

  /** Pace lane `index` for the call that owns it now (`owner`, the lane's OWNER word at open). */
  open(index: number, sab: SharedArrayBuffer, wire: LaneWire, owner: number): void {
    this.close(index);
    const reader = this.newReader(sab);
    const lane = new PacedLane(index, owner, reader, wire);
    this.lanes[index] = lane;
    this.headers[index] = reader.h;
    this.openCount++;
    // Its attention entry was taken before we knew the lane: the flag is ours to reset.
    if (this.orphans.delete(index)) Atomics.store(reader.h, H_ATTN, 0);
    this.markUrgent(lane); // a new lane is looked at once: audio may be queued already
  }

  close(index: number): void {
    const lane = this.lanes[index];
    if (!lane) return;
    this.lanes[index] = undefined;
    this.openCount--;
    this.queue.remove(lane);
    this.leavePhase(lane);
    lane.stale = true; // may still sit in the urgent list
  }

  /** Run everything due at `now`; returns the next time anything is due (Infinity: nothing). */
  step(now: number): number {
    this.attention?.drain(this.attend, this.attendAll);
    const urgent = this.urgent;
    this.urgent = this.spare;
    for (let i = 0; i < urgent.length; i++) {
      const lane = urgent.at(i);
      lane.urgent = false;
      if (lane.stale) continue;
      this.queue.remove(lane);
      this.due.push(lane);
    }
    urgent.clear();
    this.spare = urgent;
    let lane: PacedLane | undefined;
    while ((lane = this.queue.popDue(now)) !== undefined) this.due.push(lane);
    // Visited after popping them all, so a lane that wants to run again at once waits for the next step.
    const due = this.due;
    this.lanesVisited += due.length;
    for (let i = 0; i < due.length; i++) {
      const l = due.at(i);
      this.visitLane(l, now);
      if (!l.stale && l.nextVisit !== Number.POSITIVE_INFINITY) this.queue.set(l);
    }
    due.clear();
    const next = this.queue.peekTime();
    return this.urgent.length > 0 ? now : next;
  }

  /** The consumer side of a lane (a seam for tests that must act between two reads of it). */
  protected newReader(sab: SharedArrayBuffer): LaneReader {
    return new LaneReader(sab);
  }

  private markUrgent(lane: PacedLane): void {
    if (lane.urgent) return;
    lane.urgent = true;
    this.urgent.push(lane);
  }

  private visitLane(lane: PacedLane, now: number): void {
    if (lane.reader.owner() !== lane.owner) {
      // Main has handed the lane to another call; its `open` (with that call's prefix) follows.
      this.retire(lane);
      return;
    }
    const gen = lane.reader.laneGeneration();
    if (gen !== lane.seenGen) {
      // clear(): the far end flushed its buffer too, so the old schedule means nothing now.
      lane.seenGen = gen;
      this.park(lane);
    }
    if (lane.reader.paused()) {
      // The carrier asked us to stop (Asterisk MEDIA_XOFF): main wakes the lane when it may go on,
      // and the schedule starts afresh then, as after a clear.
      if (lane.state !== STATE_IDLE) this.park(lane);
      return;
    }
    if (lane.state === STATE_IDLE || lane.nextVisit <= now) this.pace(lane, now);
  }

  private retire(lane: PacedLane): void {
    lane.stale = true;
    this.leavePhase(lane);
    lane.state = STATE_IDLE;
    lane.nextVisit = Number.POSITIVE_INFINITY;
  }

  private pace(lane: PacedLane, now: number): void {
    if (lane.nextVisit !== Number.POSITIVE_INFINITY && now - lane.nextVisit > this.lateMs) lane.reader.bump(H_LATE);
    if (lane.state === STATE_IDLE && !this.start(lane, now)) return;
    // A batching lane may hand back its next message one message early: see batchReady.
    const lead = lane.perMessage > 1 ? this.leadMs + lane.perMessage * FRAME_MS : this.leadMs;
    for (let messages = 0; messages < this.maxPerVisit; messages++) {
      const due = lane.nextSlot - lead;
      if (due > now) {
        lane.nextVisit = due;
        return;
      }
      if (now - lane.nextSlot > this.catchUpMs) {
        // Too late to catch up without piling stale audio into the far end: re-base in phase.
        lane.nextSlot += FRAME_MS * Math.floor((now - lane.nextSlot) / FRAME_MS);
      }
      const frames = lane.perMessage > 1 && !this.batchReady(lane, now) ? 0 : this.handBackHead(lane);
      if (frames === 0) {
        if (lane.stale) return;
        if (lane.nextSlot <= now) {
          // The far end has played everything we handed back: an underrun if this spell had audio and
          // the app had not ended its talk right there.
          if (lane.framesThisSpell > 0 && !lane.reader.atTalkEnd()) lane.reader.bump(H_UNDERRUNS);
          this.park(lane);
          if (!lane.reader.isEmpty()) this.pace(lane, now);
          return;
        }
        // Still buffered at the far end: look again on this lane's cadence.
        lane.nextVisit = due + FRAME_MS * (Math.floor((now - due) / FRAME_MS) + 1);
        return;
      }
      lane.nextSlot += FRAME_MS * frames;
      lane.framesThisSpell += frames;
      this.handBackMarks(lane); // marks ride right behind the audio queued before them
    }
    lane.nextVisit = Math.max(now, lane.nextSlot - this.leadMs);
  }

  /**
   * A batching lane (Exotel) hands back a full message when one is queued, or whatever is queued once
   * the carrier's buffer is down to the lead: so with a real-time producer the carrier holds between
   * the lead and the lead plus one message, and every message is full.
   */
  private batchReady(lane: PacedLane, now: number): boolean {
    return lane.reader.depth() >= lane.perMessage || lane.nextSlot - now <= this.leadMs;
  }

  /** A parked lane: hand back the marks at its head; start a schedule if audio is queued. */
  private start(lane: PacedLane, now: number): boolean {
    this.handBackMarks(lane);
    if (lane.stale || lane.reader.isEmpty()) {
      lane.waitingSince = -1;
      lane.nextVisit = Number.POSITIVE_INFINITY;
      return false;
    }
    if (lane.perMessage > 1) {
      // A batching lane starts with a full message plus the lead queued, so its messages stay full
      // (batchReady); or, for a short utterance, once its first audio has waited that long.
      const cushion = lane.perMessage * FRAME_MS + this.leadMs;
      if (lane.waitingSince < 0) lane.waitingSince = now;
      if (lane.reader.depth() * FRAME_MS < cushion && now - lane.waitingSince < cushion) {
        lane.nextVisit = lane.waitingSince + cushion;
        return false;
      }
      lane.waitingSince = -1;
    }
    lane.state = STATE_PLAYING;
    lane.reader.setState(STATE_PLAYING);
    lane.framesThisSpell = 0;
    const gridMs = FRAME_MS / this.phases;
    const first = Math.ceil(now / gridMs);
    const k = this.chooseStart(first);
    lane.phase = (first + k) % this.phases;
    this.perPhase[lane.phase]!++;
    lane.nextSlot = (first + k) * gridMs;
    return true;
  }

  /**
   * Which of the next `phases` grid points (0 = the next one) a new schedule starts on. By default
   * the next one, spreading calls over all phases. With lanesPerWake: each phase in use is a wake
   * of its own, and a wake has a fixed cost (the wake-up, the spin), so a new call joins the
   * soonest phase that already has calls and fewer than lanesPerWake; failing that the soonest
   * empty phase; failing that the least loaded. Few calls then share one wake per period.
   */
  private chooseStart(first: number): number {
    const cap = this.lanesPerWake;
    if (cap <= 0) return 0;
    const n = this.phases;
    let best = 0;
    let bestKey = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const count = this.perPhase[(first + k) % n]!;
      const key = count > 0 && count < cap ? k : count === 0 ? n + k : 2 * n + count * n + k;
      if (key < bestKey) {
        bestKey = key;
        best = k;
      }
    }
    return best;
  }

  private leavePhase(lane: PacedLane): void {
    if (lane.phase >= 0) this.perPhase[lane.phase]!--;
    lane.phase = -1;
  }

  private park(lane: PacedLane): void {
    this.leavePhase(lane);
    lane.waitingSince = -1;
    lane.state = STATE_IDLE;
    lane.nextVisit = Number.POSITIVE_INFINITY;
    // Publish IDLE before re-reading WR (in the caller): main writes WR before reading STATE, so
    // one of the two sides always sees the other and a write cannot be stranded on a parked lane.
    lane.reader.setState(STATE_IDLE);
  }

  /**
   * Commit the head slot unless main gave the lane to another call meanwhile. OWNER is read after
   * the slot and before the commit: if it still names our call, the reuse had not begun (main
   * clears the lane, which would fail the commit, before it bumps OWNER and writes the new call's
   * audio), so what we read is our call's. Otherwise nothing is taken and the lane is retired.
   */
  private commitOwned(lane: PacedLane): boolean {
    if (lane.reader.owner() !== lane.owner) {
      this.retire(lane);
      return false;
    }
    return lane.reader.commit();
  }

  /**
   * Take the marks at the lane's head, then one message of audio, and write their records into the
   * hand-back batch (main sends them); returns the frames the message carries (0: no audio taken).
   */
  private handBackHead(lane: PacedLane): number {
    const r = lane.reader;
    for (;;) {
      if (!r.begin()) return 0;
      const kind = r.kind();
      if (kind === KIND_MARK) {
        if (!this.handBackMark(lane)) return 0;
        continue;
      }
      if (kind !== KIND_FRAME) continue; // main moved RD while we looked: read the new head
      if (lane.perMessage > 1) return this.handBackFrames(lane);
      const size = lane.headerBytes + lane.wireBytes;
      const record = this.batch.begin(lane.index, r.gen(), KIND_FRAME, size, lane.owner, size);
      const out = this.batch.bytes; // after begin(): it may have moved to a larger buffer
      const at = writeWsHeader(out, record, lane.binary, lane.wireBytes);
      let end: number;
      if (lane.binary) {
        end = copyBytes(r.bytes, r.dataOffset(), lane.frameBytes, out, at);
      } else {
        out.set(lane.prefix, at);
        end = writeBase64(r.bytes, r.dataOffset(), lane.frameBytes, out, at + lane.prefix.length);
        out.set(lane.suffix, end);
        end += lane.suffix.length;
      }
      if (this.commitOwned(lane)) {
        this.batch.end(end);
        this.framesBuilt++;
        return 1;
      }
      this.batch.abandon();
      if (lane.stale) return 0;
    }
  }

  /**
   * A batching lane's handBackHead: up to perMessage consecutive frames as one message record in
   * the hand-back batch, stopping at a mark or an empty lane. The frames are copied out of their
   * slots (each before its commit, as for one frame) and encoded together: base64 of separate
   * frames does not concatenate unless each is a multiple of 3 bytes.
   */
  private handBackFrames(lane: PacedLane): number {
    const r = lane.reader;
    const payload = lane.frameBytes * lane.perMessage;
    if (this.scratch.length < payload) this.scratch = new Uint8Array(payload);
    const scratch = this.scratch;
    let frames = 0;
    let gen = 0;
    while (frames < lane.perMessage && r.begin()) {
      const kind = r.kind();
      if (kind === KIND_MARK) break;
      if (kind !== KIND_FRAME) continue;
      const g = r.gen();
      if (frames > 0 && g !== gen) break; // a clear between two frames: they go in separate messages
      copyBytes(r.bytes, r.dataOffset(), lane.frameBytes, scratch, frames * lane.frameBytes);
      if (!this.commitOwned(lane)) {
        if (lane.stale) return 0;
        continue;
      }
      gen = g;
      frames++;
    }
    if (frames === 0) return 0;
    const bytes = frames * lane.frameBytes;
    const message = lane.prefix.length + (lane.binary ? bytes : base64Length(bytes)) + lane.suffix.length;
    const size = wsHeaderBytes(message) + message;
    const record = this.batch.begin(lane.index, gen, KIND_FRAME | (frames << FRAMES_SHIFT), size, lane.owner, size);
    const out = this.batch.bytes;
    const at = writeWsHeader(out, record, lane.binary, message);
    let end: number;
    if (lane.binary) {
      end = copyBytes(scratch, 0, bytes, out, at);
    } else {
      out.set(lane.prefix, at);
      end = writeBase64(scratch, 0, bytes, out, at + lane.prefix.length);
      out.set(lane.suffix, end);
      end += lane.suffix.length;
    }
    this.batch.end(end);
    this.framesBuilt += frames;
    return frames;
  }

  /** Write the marks at the lane's head, up to its first frame, into the hand-back batch. */
  private handBackMarks(lane: PacedLane): void {
    const r = lane.reader;
    while (!lane.stale && r.begin()) {
      const kind = r.kind();
      if (kind === KIND_FRAME) return;
      if (kind === KIND_MARK) this.handBackMark(lane);
    }
  }

  /** Write the mark at the lane's head into the hand-back batch; false when the lane turned out to belong to another call. */
  private handBackMark(lane: PacedLane): boolean {
    const r = lane.reader;
    const at = this.batch.begin(lane.index, r.gen(), KIND_MARK, r.value(), lane.owner, 0);
    if (this.commitOwned(lane)) {
      this.batch.end(at);
      return true;
    }
    this.batch.abandon();
    return !lane.stale;
  }
}

/**
 * Copy `len` bytes from `src[from..]` to `dst[at..]`; returns the end offset. A loop rather than
 * `dst.set(src.subarray(…))`: no view object per frame on the pacer thread.
 */
function copyBytes(src: Uint8Array, from: number, len: number, dst: Uint8Array, at: number): number {
  for (let i = 0; i < len; i++) dst[at + i] = src[from + i]!;
  return at + len;
}
