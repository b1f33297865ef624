import { AttentionReader, AttentionWriter } from '../../src/pacer/attention-ring.js';
import { readBatch } from '../../src/handback/batch-reader.js';
import { PacerCore } from '../../src/pacer/pacer-core.js';
import { attentionSlots, controlBytes, type LaneWire, type PacerOptions } from '../../src/pacer/pacer-layout.js';
import type { LaneRing } from '../../src/ring/lane-ring.js';
import { readStamp } from './seeded.js';
import { wsPayload } from '../../src/pacer/ws-frame.js';

export type Out =
  | { kind: 'frame'; lane: number; sid: string; seq: number; gen: number; owner: number }
  | { kind: 'mark'; lane: number; id: number; owner: number };

export const SUFFIX = Buffer.from('"}}');
export const prefixFor = (sid: string): Buffer =>
  Buffer.from(`{"event":"media","streamSid":"${sid}","media":{"payload":"`);
/** Twilio's media message for `sid`, one frame each, as the engine opens a lane. */
/** The message a hand-back record carries: the pacer's records are whole WebSocket frames. */
export const messageText = (wire: Buffer | string): string =>
  typeof wire === 'string' ? wire : wsPayload(wire).toString();

export const wireFor = (sid: string, framesPerMessage = 1): LaneWire => ({
  prefix: prefixFor(sid),
  suffix: SUFFIX,
  binary: false,
  framesPerMessage,
});

export const CORE_OPTIONS: PacerOptions = {
  lead: 0,
  spinUs: 0,
  phases: 4,
  catchUpFrames: 2,
  lateMs: 2,
  maxInflightBatches: 100,
  nice: null,
};

/**
 * PacerCore with the attention ring main uses, driven by a fake clock: `wake` does what Call does
 * when a parked lane gets audio or a lane is cleared, and `step` returns the decoded batch.
 */
export class CoreHarness {
  readonly core: PacerCore;
  private readonly attention: AttentionWriter;

  constructor(opts: Partial<PacerOptions> = {}, maxLanes = 64) {
    const slots = attentionSlots(maxLanes);
    const control = new SharedArrayBuffer(controlBytes(slots));
    this.attention = new AttentionWriter(control, slots);
    this.core = new PacerCore({ ...CORE_OPTIONS, ...opts }, new AttentionReader(control, slots));
  }

  open(index: number, ring: LaneRing, sid: string): void {
    this.core.open(index, ring.sab, wireFor(sid), ring.owner);
  }

  /** What Call.wakeIfIdle / clear() do on main. */
  wake(index: number, ring: LaneRing): void {
    this.attention.push(index, new Int32Array(ring.sab, 0, 64));
  }

  /** Push frames the way Call does: write, then wake the pacer if it parked the lane. */
  push(index: number, ring: LaneRing, frames: Uint8Array[]): void {
    for (const f of frames) {
      ring.pushFrame(f, 0);
      if (ring.pacerIdle()) this.wake(index, ring);
    }
  }

  step(now: number): { out: Out[]; next: number } {
    const next = this.core.step(now);
    const out: Out[] = [];
    const batch = this.core.batch.take();
    if (batch) {
      readBatch(batch, {
        frame: (lane, gen, owner, wire) => {
          const msg = JSON.parse(messageText(wire)) as { event: string; streamSid: string; media: { payload: string } };
          if (msg.event !== 'media') throw new Error(`not a media message: ${messageText(wire)}`);
          out.push({
            kind: 'frame',
            lane,
            sid: msg.streamSid,
            seq: readStamp(Buffer.from(msg.media.payload, 'base64')),
            gen,
            owner,
          });
          return false;
        },
        mark: (lane, _gen, owner, id) => void out.push({ kind: 'mark', lane, id, owner }),
      });
      this.core.batch.recycle(batch);
    }
    return { out, next };
  }
}

export const seqsOf = (r: { out: Out[] }): number[] => r.out.flatMap((o) => (o.kind === 'frame' ? [o.seq] : []));
