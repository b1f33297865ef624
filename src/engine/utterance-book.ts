import { ErrorCodes, PtimeError } from '../errors.js';
import { performance } from 'node:perf_hooks';
import { FRAME_MS } from '../ring/lane-layout.js';

export type UtteranceState = 'queued' | 'playing' | 'played' | 'cleared';

/** What the caller has heard of one utterance (call.heard()). */
export interface HeardReport {
  utterance: string;
  /** Best estimate of the audio the caller has heard, ms into the utterance. */
  heardMs: number;
  /** Audio of the utterance that has left the queue (sent, or dropped at the queue bound). */
  sentMs: number;
  /** Audio the carrier has acknowledged as played (mark echoes only). */
  confirmedMs: number;
  state: UtteranceState;
  /** False where the carrier gives no playback acknowledgement: heardMs is then the send-time model. */
  exact: boolean;
  /**
   * From its beginUtterance()/speak() (or, for an implicit one, its first audio) to when the caller
   * began hearing it, by the same estimate as heardMs; null until then (or if never heard).
   */
  firstAudioMs: number | null;
}

/** The caller started or stopped hearing the bot ('playback' event). */
export interface Playback {
  speaking: boolean;
  /** The utterance heard (speaking) or last heard (not speaking). */
  utterance: string;
}

/** One utterance a clear() cut (call.clear() returns these and emits each as 'interrupted'). */
export interface Interruption {
  utterance: string;
  heardMs: number;
  sentMs: number;
  /** Audio of the utterance the caller will never hear: accepted minus heard. */
  droppedMs: number;
}

/** Utterances remembered for heard(id), oldest forgotten first. */
export const UTTERANCE_HISTORY = 32;
export const MAX_UTTERANCE_ID_BYTES = 256;

interface Utterance {
  readonly id: string;
  /** Frame sequence number of its first frame (frames are numbered in the order they are queued). */
  readonly start: number;
  /** One past its last frame so far. */
  end: number;
  /** Still taking audio. */
  open: boolean;
  played: boolean;
  /** Figures frozen by the clear that cut it. */
  cut: { heardMs: number; sentMs: number; confirmedMs: number } | null;
  /** When it began (performance.now()), and when the caller began hearing it (-1: not yet). */
  readonly begunAt: number;
  heardAt: number;
}

/**
 * Where the caller is in the call's audio, from what ptime knows: every frame's place in the
 * queue (its sequence number), how many have left the queue (the lane's sender counters), and the
 * carrier's acknowledgements of marks (each mark sits at a frame number).
 *
 * The estimate is the last acknowledged position plus real-time play-out since it, never beyond
 * the audio that has left the queue and never beyond the next mark not yet acknowledged (the
 * carrier has not played past it). Before any acknowledgement (a call's first audio, or after a
 * clear) it is the send-time model: what has left the queue minus the lead the carrier holds.
 * Pure bookkeeping: the Call feeds it frames, marks, counters and the clock.
 */
export class UtteranceBook {
  private readonly list: Utterance[] = [];
  private current: Utterance | null = null;
  private readonly ids = new Set<string>();
  private nextAuto = 1;
  /** Sequence number the next queued frame gets. */
  pushed = 0;
  /** Frames before baseSeq belong to audio a clear() dropped; consumption is counted from baseConsumed. */
  private baseSeq = 0;
  private baseConsumed = 0;
  private confirmedSeq = -1;
  private confirmedAt = 0;
  /** Positions of marks queued or sent but not acknowledged, in order. */
  private readonly pendingMarks: number[] = [];
  /** What the last look() found the caller hearing (null: nothing yet). */
  private hearing: Utterance | null = null;
  private speaking = false;

  constructor(
    /** Frames the carrier holds ahead of play-out while streaming (the engine's lead). */
    private readonly leadFrames: number,
    /** Whether the carrier acknowledges marks when played. */
    private readonly exact: boolean,
    private readonly consumedNow: () => number,
  ) {
    this.baseConsumed = consumedNow();
  }

  /** Validate and reserve an id for an utterance that begins in the call's order (or make one). */
  reserve(id?: string): string {
    if (id === undefined) {
      let auto: string;
      do auto = `u${this.nextAuto++}`;
      while (this.ids.has(auto));
      this.ids.add(auto);
      return auto;
    }
    if (typeof id !== 'string' || id.length === 0)
      throw new PtimeError(ErrorCodes.UTTERANCE, 'utterance id must be a non-empty string');
    const bytes = Buffer.byteLength(id);
    if (bytes > MAX_UTTERANCE_ID_BYTES)
      throw new PtimeError(
        ErrorCodes.UTTERANCE,
        `utterance id is ${bytes} bytes; the limit is ${MAX_UTTERANCE_ID_BYTES}`,
      );
    if (this.ids.has(id))
      throw new PtimeError(
        ErrorCodes.UTTERANCE,
        `utterance id ${JSON.stringify(id.slice(0, 64))} is already in use on this call`,
      );
    this.ids.add(id);
    return id;
  }

  /** The reserved utterance `id` starts now (the one open, if any, was closed first); `at`: when the app began it. */
  begin(id: string, at = performance.now()): void {
    const u: Utterance = {
      id,
      start: this.pushed,
      end: this.pushed,
      open: true,
      played: false,
      cut: null,
      begunAt: at,
      heardAt: -1,
    };
    this.current = u;
    this.list.push(u);
    this.trim();
  }

  /**
   * Close the open utterance: 'audio' if it has some (the caller then queues a mark at its end),
   * 'empty' if it had none (it counts as played at once), 'none' if none was open.
   */
  close(): { id: string; had: 'audio' | 'empty' } | null {
    const u = this.current;
    this.current = null;
    if (!u) return null;
    u.open = false;
    if (u.end === u.start) u.played = true; // nothing to play
    return { id: u.id, had: u.end > u.start ? 'audio' : 'empty' };
  }

  /** A frame is queued; returns its sequence number. Audio with no utterance open starts an implicit one. */
  frame(): number {
    if (!this.current) this.begin(this.reserve());
    this.current!.end = this.pushed + 1;
    return this.pushed++;
  }

  /** A mark is queued after every frame so far: returns its position. */
  markQueued(): number {
    this.pendingMarks.push(this.pushed);
    return this.pushed;
  }

  /** The carrier acknowledged the mark at `seq`: audio up to there has played. Returns the utterances now fully played. */
  markPlayed(seq: number, now: number): string[] {
    if (seq < this.baseSeq) return []; // from before a clear: cleared audio, not heard
    while (this.pendingMarks.length > 0 && this.pendingMarks[0]! <= seq) this.pendingMarks.shift();
    if (seq >= this.confirmedSeq) {
      this.confirmedSeq = seq;
      this.confirmedAt = now;
    }
    const done: string[] = [];
    for (const u of this.list) {
      if (!u.played && !u.open && u.cut === null && u.end <= seq) {
        u.played = true;
        done.push(u.id);
      }
    }
    return done;
  }

  /** A mark was dropped from a full queue or settled without play: it no longer bounds the estimate. */
  markGone(seq: number): void {
    const at = this.pendingMarks.indexOf(seq);
    if (at >= 0) this.pendingMarks.splice(at, 1);
  }

  /** The best estimate of the frame position the caller has reached (fractional). */
  position(now: number): number {
    const sent = this.sentSeq();
    const cap = Math.min(sent, this.pendingMarks[0] ?? Number.POSITIVE_INFINITY);
    const confirmed = this.confirmedSeq >= this.baseSeq;
    const est = confirmed ? this.confirmedSeq + (now - this.confirmedAt) / FRAME_MS : sent - this.leadFrames;
    return Math.max(confirmed ? this.confirmedSeq : this.baseSeq, Math.min(est, cap));
  }

  /** heard() for utterance `id`, or for the one playing now (null: no audio yet). */
  heard(now: number, id?: string): HeardReport | null {
    const u = id === undefined ? this.playingNow(now) : this.find(id);
    return u ? this.report(u, now) : null;
  }

  /**
   * Where the caller is now, by the estimate heard() gives: a Playback when it changed since the
   * last look (started hearing an utterance, moved on to the next, or stopped), else null. An
   * utterance heard for the first time gets its first-audio time; `firstAudio` hears it.
   */
  look(now: number, firstAudio?: (ms: number) => void): Playback | null {
    const pos = this.position(now);
    let playing: Utterance | null = null;
    for (const u of this.list) {
      if (pos <= u.start) break; // utterances are in queue order: none after this one has begun
      if (u.cut !== null || u.end === u.start) continue;
      if (u.heardAt < 0) {
        u.heardAt = Math.max(now, u.begunAt);
        firstAudio?.(u.heardAt - u.begunAt);
      }
      if (playing === null && !u.played && pos < u.end) playing = u;
    }
    const speaking = playing !== null;
    if (speaking === this.speaking && (playing === null || playing === this.hearing)) return null;
    this.speaking = speaking;
    if (playing) this.hearing = playing;
    return this.hearing ? { speaking, utterance: this.hearing.id } : null;
  }

  /** A clear(): every utterance with audio not yet heard is cut, its figures frozen now. */
  clear(now: number): Interruption[] {
    const cuts: Interruption[] = [];
    for (const u of this.list) {
      if (u.cut !== null || u.played || u.end === u.start) continue;
      const r = this.report(u, now);
      u.cut = { heardMs: r.heardMs, sentMs: r.sentMs, confirmedMs: r.confirmedMs };
      cuts.push({
        utterance: u.id,
        heardMs: r.heardMs,
        sentMs: r.sentMs,
        droppedMs: (u.end - u.start) * FRAME_MS - r.heardMs,
      });
    }
    // What was queued is gone: positions start again at the next frame, and acknowledgements of
    // anything before it are of cleared audio.
    if (this.current) this.current.open = false;
    this.current = null;
    this.baseSeq = this.pushed;
    this.baseConsumed = this.consumedNow();
    this.confirmedSeq = -1;
    this.pendingMarks.length = 0;
    return cuts;
  }

  private sentSeq(): number {
    return this.baseSeq + ((this.consumedNow() - this.baseConsumed) | 0);
  }

  private report(u: Utterance, now: number): HeardReport {
    const frames = u.end - u.start;
    const firstAudioMs = u.heardAt < 0 ? null : Math.round(u.heardAt - u.begunAt);
    if (u.cut) return { utterance: u.id, ...u.cut, state: 'cleared', exact: this.exact, firstAudioMs };
    const within = (seq: number): number => Math.round(Math.min(Math.max(seq - u.start, 0), frames) * FRAME_MS);
    const pos = this.position(now);
    const heardMs = u.played ? frames * FRAME_MS : within(pos);
    const state: UtteranceState = u.played ? 'played' : pos <= u.start ? 'queued' : 'playing';
    return {
      utterance: u.id,
      heardMs,
      sentMs: within(this.sentSeq()),
      confirmedMs: within(this.confirmedSeq),
      state,
      exact: this.exact,
      firstAudioMs,
    };
  }

  /** The first utterance with audio the caller has not heard yet (or still open), else the last. */
  private playingNow(now: number): Utterance | null {
    const pos = this.position(now);
    for (const u of this.list) if (u.cut === null && !u.played && (u.open || u.end > pos)) return u;
    return this.list[this.list.length - 1] ?? null;
  }

  private find(id: string): Utterance {
    const u = this.list.find((x) => x.id === id);
    if (u) return u;
    if (this.ids.has(id))
      throw new PtimeError(
        ErrorCodes.UTTERANCE,
        `utterance ${JSON.stringify(id.slice(0, 64))} has not begun yet: it waits behind audio still converting`,
      );
    throw new PtimeError(
      ErrorCodes.UTTERANCE,
      `no utterance ${JSON.stringify(String(id).slice(0, 64))} among the last ${UTTERANCE_HISTORY} of this call (never begun, or aged out)`,
    );
  }

  /** The history is bounded, and so is the set of ids in use: an id aged out may be used again. */
  private trim(): void {
    while (this.list.length > UTTERANCE_HISTORY) this.ids.delete(this.list.shift()!.id);
  }
}
