/**
 * The designs users write today, as pacers the engine can swap in (EngineOptions.pacer), so they
 * run behind the same Twilio server, lanes and demo app as ptime. All of them run on the main
 * thread and build each message there, per frame, the way typical code does:
 *   interval  — one setInterval(20) per call
 *   timeout   — one drift-corrected setTimeout loop per call that re-bases when late
 *   absolute  — an absolute-clock loop per call keeping 160 ms (8 frames) sent ahead
 * Not part of the library.
 */
import { EventEmitter } from 'node:events';
import type { LaneSink } from '../../src/handback/handback-consumer.js';
import type { PacerHostEvents } from '../../src/pacer/pacer-host.js';
import type { PacerPort } from '../../src/pacer/pacer-port.js';
import type { LaneWire } from '../../src/pacer/pacer-layout.js';
import { FRAME_BYTES, FRAME_MS, KIND_FRAME, KIND_MARK } from '../../src/ring/lane-layout.js';
import { LaneReader } from '../../src/ring/lane-reader.js';

export const BASELINES = ['interval', 'timeout', 'absolute'] as const;
export type BaselineName = (typeof BASELINES)[number];

const ABSOLUTE_LEAD_FRAMES = 8; // 160 ms

class BaselineLane {
  timer: NodeJS.Timeout | null = null;
  t0 = 0;
  k = 0;

  constructor(
    readonly reader: LaneReader,
    /** The media message around a frame's base64 payload, built per frame. */
    readonly message: (payload: string) => string,
    readonly sink: () => LaneSink | undefined,
  ) {}

  /** Send marks at the head and then one frame, building the message here; false if empty. */
  sendOne(): boolean {
    const r = this.reader;
    for (;;) {
      if (!r.begin()) return false;
      const kind = r.kind();
      if (kind === KIND_MARK) {
        const gen = r.gen();
        const id = r.value();
        if (r.commit()) this.sink()?.onMark(gen, id);
        continue;
      }
      if (kind !== KIND_FRAME) continue;
      const at = r.dataOffset();
      const payload = Buffer.from(r.bytes.subarray(at, at + FRAME_BYTES)).toString('base64');
      const gen = r.gen();
      if (!r.commit()) continue;
      this.sink()?.onFrame(gen, this.message(payload), 1);
      return true;
    }
  }
}

/**
 * How typical code builds a media message: Twilio's with JSON.stringify around the streamSid (read
 * from ptime's pre-built prefix; typical code has it as a plain string); a carrier whose media
 * names no stream (Telnyx) from its text around the payload, concatenated per frame.
 */
function mediaMessage(wire: LaneWire): (payload: string) => string {
  const prefix = Buffer.from(wire.prefix).toString();
  const sid = /"streamSid":("(?:[^"\\]|\\.)*")/.exec(prefix)?.[1];
  if (sid !== undefined) {
    const streamSid = JSON.parse(sid) as string;
    return (payload) => JSON.stringify({ event: 'media', streamSid, media: { payload } });
  }
  if (wire.binary) throw new Error('the main-thread baselines speak only JSON carriers');
  const suffix = Buffer.from(wire.suffix).toString();
  return (payload) => prefix + payload + suffix;
}

export class MainThreadPacer extends EventEmitter<PacerHostEvents> implements PacerPort {
  private readonly lanes = new Map<number, BaselineLane>();
  private tickCount = 0;

  constructor(
    private readonly kind: BaselineName,
    private readonly sinks: (lane: number) => LaneSink | undefined,
  ) {
    super();
  }

  get ticks(): number {
    return this.tickCount;
  }

  open(lane: number, sab: SharedArrayBuffer, wire: LaneWire): void {
    const l = new BaselineLane(new LaneReader(sab), mediaMessage(wire), () => this.sinks(lane));
    this.lanes.set(lane, l);
    l.t0 = performance.now();
    if (this.kind === 'interval') {
      l.timer = setInterval(() => {
        this.tickCount++;
        l.sendOne();
      }, FRAME_MS);
    } else {
      this.schedule(l);
    }
  }

  close(lane: number): void {
    const l = this.lanes.get(lane);
    if (!l) return;
    if (l.timer) clearTimeout(l.timer);
    this.lanes.delete(lane);
  }

  wake(_lane: number): void {
    // Main-thread pacers poll on their own timers.
  }

  stop(): Promise<void> {
    for (const lane of [...this.lanes.keys()]) this.close(lane);
    this.emit('exit', 0);
    return Promise.resolve();
  }

  private schedule(l: BaselineLane): void {
    const due = l.t0 + l.k * FRAME_MS;
    l.timer = setTimeout(() => this.fire(l), Math.max(0, due - performance.now()));
  }

  private fire(l: BaselineLane): void {
    this.tickCount++;
    const now = performance.now();
    if (this.kind === 'timeout') {
      // The common design: send one, aim for the next slot, and if we fell behind start over
      // from now (re-base), which is where the cumulative drift comes from.
      l.sendOne();
      l.k++;
      if (now - (l.t0 + l.k * FRAME_MS) > FRAME_MS) {
        l.t0 = now;
        l.k = 1;
      }
    } else {
      // Absolute clock with a 160 ms send-ahead: keep everything due by now + lead sent.
      const allowed = Math.floor((now - l.t0) / FRAME_MS) + 1 + ABSOLUTE_LEAD_FRAMES;
      while (l.k < allowed && l.sendOne()) l.k++;
      // An empty queue does not bank credit for later bursts.
      if (l.k < allowed - ABSOLUTE_LEAD_FRAMES) l.k = allowed - ABSOLUTE_LEAD_FRAMES;
    }
    this.schedule(l);
  }
}
