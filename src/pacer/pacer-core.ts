import { FRAME_BYTES, FRAME_MS, H_LATE, H_SENT, H_UNDERRUNS, KIND_FRAME, KIND_MARK, STATE_IDLE, STATE_PLAYING } from '../ring/lane-layout.js';
import { LaneReader } from '../ring/lane-reader.js';
import { BatchWriter } from './batch-writer.js';
import { base64Length, writeBase64 } from './base64-writer.js';
import type { PacerOptions } from './pacer-layout.js';

const FRAME_B64 = base64Length(FRAME_BYTES);

/** The pacer's private view of one lane. */
class PacedLane {
  state = STATE_IDLE;
  /** Real-time play slot of the next frame (the caller starts hearing it then): t0 + k * 20 ms. */
  nextSlot = 0;
  /** When the pacer next has to look at this lane; Infinity while parked. */
  nextVisit = Number.POSITIVE_INFINITY;
  seenGen: number;
  framesThisSpell = 0;
  readonly wireBytes: number;

  constructor(
    readonly index: number,
    readonly reader: LaneReader,
    readonly prefix: Uint8Array,
    readonly suffix: Uint8Array,
  ) {
    this.seenGen = reader.laneGeneration();
    this.wireBytes = prefix.length + FRAME_B64 + suffix.length;
    reader.setState(STATE_IDLE);
  }
}

/**
 * The pacing logic, free of threads and clocks: `step(now)` does everything due at `now` and says
 * when it next needs to run. The worker entry supplies the clock and the sleeping; tests drive it
 * with a fake clock.
 *
 * Each lane keeps an absolute schedule: frame k plays at t0 + k*20 ms and is sent `lead` frames
 * before that. A lane starts when audio arrives on a parked lane (t0 snapped up to the phase grid),
 * parks when the far end's buffer would run dry (no burst after silence: the next audio starts a
 * new schedule), catches up at most `catchUpFrames` when the pacer itself woke late and re-bases
 * beyond that.
 */
export class PacerCore {
  readonly batch = new BatchWriter();
  private readonly lanes: (PacedLane | undefined)[] = [];
  private readonly active: PacedLane[] = [];
  private readonly leadMs: number;
  private readonly gridMs: number;
  private readonly catchUpMs: number;
  private readonly lateMs: number;
  private readonly maxPerVisit: number;

  constructor(opts: PacerOptions) {
    this.leadMs = opts.lead * FRAME_MS;
    this.gridMs = FRAME_MS / opts.phases;
    this.catchUpMs = opts.catchUpFrames * FRAME_MS;
    this.lateMs = opts.lateMs;
    this.maxPerVisit = opts.lead + opts.catchUpFrames + 1;
  }

  get laneCount(): number {
    return this.active.length;
  }

  open(index: number, sab: SharedArrayBuffer, prefix: Uint8Array, suffix: Uint8Array): void {
    this.close(index);
    const lane = new PacedLane(index, new LaneReader(sab), prefix, suffix);
    this.lanes[index] = lane;
    this.active.push(lane);
  }

  close(index: number): void {
    const lane = this.lanes[index];
    if (!lane) return;
    this.lanes[index] = undefined;
    const at = this.active.indexOf(lane);
    const last = this.active.pop()!;
    if (last !== lane) this.active[at] = last;
  }

  /** Run everything due at `now`; returns the next time anything is due (Infinity: nothing). */
  step(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.active.length; i++) {
      const lane = this.active[i]!;
      const gen = lane.reader.laneGeneration();
      if (gen !== lane.seenGen) {
        // clear(): the far end flushed its buffer too, so the old schedule means nothing now.
        lane.seenGen = gen;
        this.park(lane);
      }
      if (lane.state === STATE_IDLE || lane.nextVisit <= now) this.visit(lane, now);
      if (lane.nextVisit < next) next = lane.nextVisit;
    }
    return next;
  }

  private visit(lane: PacedLane, now: number): void {
    if (lane.nextVisit !== Number.POSITIVE_INFINITY && now - lane.nextVisit > this.lateMs) lane.reader.bump(H_LATE);
    if (lane.state === STATE_IDLE && !this.start(lane, now)) return;
    for (let sent = 0; sent < this.maxPerVisit; sent++) {
      const due = lane.nextSlot - this.leadMs;
      if (due > now) {
        lane.nextVisit = due;
        return;
      }
      if (now - lane.nextSlot > this.catchUpMs) {
        // Too late to catch up without piling stale audio into the far end: re-base in phase.
        lane.nextSlot += FRAME_MS * Math.floor((now - lane.nextSlot) / FRAME_MS);
      }
      if (!this.sendHead(lane)) {
        if (lane.nextSlot <= now) {
          // The far end has played everything we sent: an underrun if this spell had audio.
          if (lane.framesThisSpell > 0) lane.reader.bump(H_UNDERRUNS);
          this.park(lane);
          if (!lane.reader.isEmpty()) this.visit(lane, now);
          return;
        }
        // Still buffered at the far end: look again on this lane's cadence.
        lane.nextVisit = due + FRAME_MS * (Math.floor((now - due) / FRAME_MS) + 1);
        return;
      }
      lane.nextSlot += FRAME_MS;
      lane.framesThisSpell++;
      this.sendMarks(lane); // marks ride right behind the audio queued before them
    }
    lane.nextVisit = Math.max(now, lane.nextSlot - this.leadMs);
  }

  /** A parked lane: send marks at its head; start a schedule if audio is queued. */
  private start(lane: PacedLane, now: number): boolean {
    this.sendMarks(lane);
    if (lane.reader.isEmpty()) {
      lane.nextVisit = Number.POSITIVE_INFINITY;
      return false;
    }
    lane.state = STATE_PLAYING;
    lane.reader.setState(STATE_PLAYING);
    lane.framesThisSpell = 0;
    lane.nextSlot = Math.ceil(now / this.gridMs) * this.gridMs;
    return true;
  }

  private park(lane: PacedLane): void {
    lane.state = STATE_IDLE;
    lane.nextVisit = Number.POSITIVE_INFINITY;
    // Publish IDLE before re-reading WR (in the caller): main writes WR before reading STATE, so
    // one of the two sides always sees the other and a write cannot be stranded on a parked lane.
    lane.reader.setState(STATE_IDLE);
  }

  /** Send marks at the head, then one frame; false when no frame was queued. */
  private sendHead(lane: PacedLane): boolean {
    const r = lane.reader;
    for (;;) {
      if (!r.begin()) return false;
      const kind = r.kind();
      if (kind === KIND_MARK) {
        this.sendMark(lane);
        continue;
      }
      if (kind !== KIND_FRAME) continue; // main moved RD while we looked: read the new head
      const at = this.batch.begin(lane.index, r.gen(), KIND_FRAME, lane.wireBytes, lane.wireBytes);
      const out = this.batch.bytes;
      out.set(lane.prefix, at);
      let end = writeBase64(r.bytes, r.dataOffset(), FRAME_BYTES, out, at + lane.prefix.length);
      out.set(lane.suffix, end);
      end += lane.suffix.length;
      if (r.commit()) {
        this.batch.end(end);
        r.bump(H_SENT);
        return true;
      }
      this.batch.abandon();
    }
  }

  private sendMarks(lane: PacedLane): void {
    const r = lane.reader;
    while (r.begin()) {
      const kind = r.kind();
      if (kind === KIND_FRAME) return;
      if (kind === KIND_MARK) this.sendMark(lane);
    }
  }

  private sendMark(lane: PacedLane): void {
    const r = lane.reader;
    const at = this.batch.begin(lane.index, r.gen(), KIND_MARK, r.value(), 0);
    if (r.commit()) this.batch.end(at);
    else this.batch.abandon();
  }
}
