import type { AudioFormat } from '../codec/audio-format.js';
import { FRAME_MS } from '../ring/lane-layout.js';
import { CHANNEL_BOT, CHANNEL_CALLER, MAX_AHEAD_MS, SEG_WORDS } from './recorder-protocol.js';
import type { RecorderHost, RecordingOutcome } from './recorder-host.js';
import { PendingFrames } from './pending-frames.js';

/**
 * Audio goes to the recorder thread this often (and at the end): each post is a message and a
 * few file writes per call, so fewer, larger ones cost less.
 */
const POST_EVERY_MS = 1000;
/**
 * The recorder thread writes only audio this far behind now: the caller's audio is placed by the
 * carrier's timestamps and may arrive late (jitter, a stall of main); later than this it is dropped.
 */
const SETTLE_MS = 1000;

/**
 * One call's recording, on main: which audio goes where in the two channels, in samples of the
 * recording's timeline (0 = when it started). Decoding and writing happen on the recorder thread.
 *
 * The bot's channel holds what the caller heard: the pacer sends a frame as soon as it is queued,
 * up to `lead` frames ahead of play-out, and the carrier plays frames back to back at real time,
 * one arriving while nothing plays at once. So a frame queued at `t` plays at
 * `max(t, end of the frame before)`: the same schedule the pacer keeps (pacer-core.ts), known here
 * without asking it. A frame waits here until it has played; a clear() keeps what had played by
 * then (the frame playing is cut inside) and forgets the rest, which the carrier flushed. A frame
 * dropped from the queue before it was sent (the queue bound, maxQueuedMs) is taken out, and the
 * frames behind it move up.
 */
export class CallRecording {
  /** Frames queued and not yet played, oldest first, with their play times (ms, performance.now()). */
  private readonly pending: PendingFrames;
  private playEnd = 0;
  /** The caller's timeline: its timestamps plus this gives ms in the recording (set by the first frame). */
  private callerOffsetMs: number | null = null;
  private readonly batch = { [CHANNEL_CALLER]: new Batch(), [CHANNEL_BOT]: new Batch() };
  private lastPost: number;
  private readonly samplesPerMs: number;
  private readonly bytesPerSample: number;
  private readonly id: number;
  /** No more audio is taken: finished, failed, or never started (the engine was closing). */
  ended = false;
  /** The furthest sample any audio reached: the recording lasts at least until there. */
  private furthest = 0;

  constructor(
    private readonly host: RecorderHost,
    /** The file, or null for the application's stream (its bytes come to `outcome.data`). */
    path: string | null,
    format: AudioFormat,
    private readonly leadFrames: number,
    private readonly t0: number,
    /** When the audio queued before the recording started will have played (t0 if none). */
    queuedUntil: number,
    outcome: RecordingOutcome,
  ) {
    this.playEnd = queuedUntil;
    this.pending = new PendingFrames(format.frameBytes);
    this.samplesPerMs = format.sampleRate / 1000;
    this.bytesPerSample = format.encoding === 'l16' ? 2 : 1;
    this.lastPost = t0;
    this.id = host.start(path, format, {
      failed: (reason) => {
        this.ended = true;
        outcome.failed(reason);
      },
      data: (bytes) => outcome.data(bytes),
      done: (info) => outcome.done(info),
    });
    if (this.id === 0) this.ended = true;
  }

  /** The app's frame went into the queue at `now`. */
  botFrame(src: Uint8Array, offset: number, now: number): void {
    if (this.ended) return;
    const playAt = Math.max(now, this.playEnd);
    this.playEnd = playAt + FRAME_MS;
    this.pending.push(src, offset, playAt);
  }

  /** The oldest frame still in the queue was dropped (never sent): the frames behind it play a frame sooner. */
  botDropped(now: number): void {
    const sentBy = now + this.leadFrames * FRAME_MS;
    const p = this.pending;
    let at = 0;
    while (at < p.length && p.playAt(at) <= sentBy) at++;
    if (at === p.length) return;
    p.removeAt(at);
    for (let i = at; i < p.length; i++) p.setPlayAt(i, p.playAt(i) - FRAME_MS);
    this.playEnd -= FRAME_MS;
  }

  /** A clear() at `now`: what had played stays, the frame playing is cut there, the rest was flushed. */
  botClear(now: number): void {
    if (this.ended) return;
    this.playedBy(now, true);
    this.pending.clear();
    this.playEnd = now;
  }

  /** A frame of the caller's audio, `timestampMs` on the carrier's clock, arrived at `now`. */
  caller(payload: Uint8Array, timestampMs: number, now: number): void {
    if (this.ended) return;
    this.callerOffsetMs ??= now - this.t0 - timestampMs;
    const atMs = timestampMs + this.callerOffsetMs;
    // A timestamp far from the call's clock (a carrier's jump, a hostile peer) would place audio
    // hours away: only frames within the recorder's reach are kept.
    if (atMs < 0 || atMs > now - this.t0 + MAX_AHEAD_MS) return;
    this.add(CHANNEL_CALLER, this.sampleAt(atMs), payload);
  }

  /** The engine's 20 ms look: move what has played to the batch, post it now and then. */
  tick(now: number): void {
    if (this.ended) return;
    this.playedBy(now, false);
    if (now - this.lastPost >= POST_EVERY_MS) this.post(now);
  }

  /** Stop where the file is (the application's stream failed): nothing more is sent for it. */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.host.close(this.id, 0);
  }

  /** The call ended at `now`: what played until then, and the file is finished. */
  finish(now: number): void {
    if (this.ended) return;
    this.playedBy(now, true);
    this.pending.clear();
    const end = Math.max(this.sampleAt(now - this.t0), this.furthest);
    this.post(now, end);
    this.ended = true;
    this.host.close(this.id, end);
  }

  /** Frames played by `now` go to the batch; `cut`: the one playing is cut at `now`, the rest stay. */
  private playedBy(now: number, cut: boolean): void {
    const p = this.pending;
    let n = 0;
    for (; n < p.length; n++) {
      const playAt = p.playAt(n);
      if (playAt + FRAME_MS <= now) {
        this.add(CHANNEL_BOT, this.sampleAt(playAt - this.t0), p.frame(n));
        continue;
      }
      if (cut && playAt < now) {
        const samples = Math.floor((now - playAt) * this.samplesPerMs);
        if (samples > 0)
          this.add(CHANNEL_BOT, this.sampleAt(playAt - this.t0), p.frame(n).subarray(0, samples * this.bytesPerSample));
      }
      break;
    }
    if (n > 0) p.shift(n);
  }

  private add(channel: 0 | 1, at: number, bytes: Uint8Array): void {
    this.batch[channel].add(at, bytes, this.bytesPerSample);
    this.furthest = Math.max(this.furthest, at + bytes.length / this.bytesPerSample);
  }

  private sampleAt(ms: number): number {
    return Math.round(ms * this.samplesPerMs);
  }

  private post(now: number, safe = this.sampleAt(now - this.t0 - SETTLE_MS)): void {
    this.lastPost = now;
    const caller = this.batch[CHANNEL_CALLER];
    const bot = this.batch[CHANNEL_BOT];
    if (caller.size === 0 && bot.size === 0 && safe <= 0) return;
    const bytes = new Uint8Array(caller.size + bot.size);
    const segs = new Int32Array(((caller.segs.length + bot.segs.length) / 3) * SEG_WORDS);
    let w = 0;
    let offset = 0;
    for (const [channel, b] of [
      [CHANNEL_CALLER, caller],
      [CHANNEL_BOT, bot],
    ] as const) {
      for (let i = 0; i < b.segs.length; i += 3) {
        segs[w++] = channel;
        segs[w++] = b.segs[i]!;
        segs[w++] = offset + b.segs[i + 1]!;
        segs[w++] = b.segs[i + 2]!;
      }
      bytes.set(b.bytes.subarray(0, b.size), offset);
      offset += b.size;
      b.reset();
    }
    this.host.audio(this.id, bytes, segs, Math.max(0, safe));
  }
}

/** One channel's audio waiting to be posted: bytes, and segments [position, byte offset, length] (adjacent ones merged). */
class Batch {
  bytes = new Uint8Array(8192);
  size = 0;
  segs: number[] = [];

  add(at: number, src: Uint8Array, bytesPerSample: number): void {
    if (this.size + src.length > this.bytes.length) {
      const next = new Uint8Array(Math.max(this.bytes.length * 2, this.size + src.length));
      next.set(this.bytes.subarray(0, this.size));
      this.bytes = next;
    }
    this.bytes.set(src, this.size);
    const n = this.segs.length;
    const last = n - 3;
    if (
      n > 0 &&
      this.segs[last + 1]! + this.segs[last + 2]! === this.size &&
      this.segs[last]! + this.segs[last + 2]! / bytesPerSample === at
    )
      this.segs[last + 2]! += src.length;
    else this.segs.push(at, this.size, src.length);
    this.size += src.length;
  }

  reset(): void {
    this.size = 0;
    this.segs.length = 0;
  }
}
