import { ErrorCodes, PtimeError } from '../errors.js';

export type MarkStatus = 'played' | 'cleared' | 'dropped' | 'closed';

export interface MarkResult {
  name: string;
  /**
   * played: the carrier echoed it after playing the audio before it; cleared: a clear() flushed
   * it (ours or the carrier's buffer); dropped: it fell off a full queue; closed: the call ended.
   */
  status: MarkStatus;
}

interface PendingMark {
  readonly name: string;
  readonly wire: string;
  readonly resolve: (r: MarkResult) => void;
  clearsAtSend: number;
  /** Its place in the call's audio: the frame number it follows (set when it is queued). */
  seq: number;
  /** The engine's own mark (what the caller heard): never surfaced to the app. */
  readonly internal: boolean;
}

/** What an echo settled. */
export interface Echo {
  /** The app's mark and how it settled; null for the engine's own marks. */
  result: MarkResult | null;
  /** Where it sits in the call's audio. */
  seq: number;
  /** Echoed after playing (not flushed by a clear). */
  played: boolean;
}

/** Names of the engine's own marks start with this; the app's may not. */
export const INTERNAL_MARK_PREFIX = 'ptime.';

/**
 * The engine's own marks unsettled (queued or awaiting the echo) beyond which it sends no more.
 * A carrier that never echoes would otherwise make them pile up for as long as the call lasts (2 a
 * second at the default markEveryMs); a healthy one keeps a handful pending (the queue and the
 * lead). 64 is 32 s of audio at 500 ms.
 */
export const MAX_INTERNAL_MARKS_UNSETTLED = 64;

/** Every mark of a call from mark() until it is settled: none is ever lost silently. */
export class MarkBook {
  private nextId = 1;
  private readonly queued = new Map<number, PendingMark>();
  /** Sent to the carrier, awaiting its echo, in send order (names may repeat). */
  private readonly inFlight: PendingMark[] = [];
  private clearsSent = 0;

  constructor(
    private readonly maxNameBytes: number,
    private readonly buildWire: (name: string) => string,
    /** What sets the limit, for the error (the option, or the carrier's own cap). */
    private readonly limitLabel = 'maxMarkNameBytes',
  ) {}

  /** The engine's own marks sent so far (counted in call.stats()). */
  internalSent = 0;
  /** Every mark settled so far, the engine's own and the app's, by how it settled. */
  readonly outcomes: Record<MarkStatus, number> = { played: 0, cleared: 0, dropped: 0, closed: 0 };
  private internalPending = 0;

  /** The engine's own marks not yet settled (queued, or sent and not echoed). */
  get internalUnsettled(): number {
    return this.internalPending;
  }

  /** The app's marks not yet settled. */
  get pending(): number {
    return this.queued.size + this.inFlight.length - this.internalPending;
  }

  /** A programming error in the name throws PTIME_ERR_MARK_NAME, whatever the call's state. */
  checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new PtimeError(ErrorCodes.MARK_NAME, 'mark name must be a non-empty string');
    }
    if (name.startsWith(INTERNAL_MARK_PREFIX)) {
      throw new PtimeError(ErrorCodes.MARK_NAME, `mark names starting with "${INTERNAL_MARK_PREFIX}" are ptime's own`);
    }
    const bytes = Buffer.byteLength(name);
    if (bytes > this.maxNameBytes) {
      throw new PtimeError(
        ErrorCodes.MARK_NAME,
        `mark name is ${bytes} bytes; the limit (${this.limitLabel}) is ${this.maxNameBytes}`,
      );
    }
  }

  add(name: string): { id: number; done: Promise<MarkResult> } {
    this.checkName(name);
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fff_ffff) + 1;
    let resolve!: (r: MarkResult) => void;
    const done = new Promise<MarkResult>((r) => (resolve = r));
    this.queued.set(id, { name, wire: this.buildWire(name), resolve, clearsAtSend: 0, seq: -1, internal: false });
    return { id, done };
  }

  /** One of the engine's own marks, at frame position `seq`; returns its id. */
  addInternal(seq: number): number {
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fff_ffff) + 1;
    const name = `${INTERNAL_MARK_PREFIX}h${id}`;
    this.queued.set(id, { name, wire: this.buildWire(name), resolve: noop, clearsAtSend: 0, seq, internal: true });
    this.internalPending++;
    return id;
  }

  /** The mark is being queued after frame position `seq`. */
  place(id: number, seq: number): void {
    const m = this.queued.get(id);
    if (m) m.seq = seq;
  }

  /** Position of a queued mark (-1 if unknown). */
  seqOf(id: number): number {
    return this.queued.get(id)?.seq ?? -1;
  }

  /** The message of a queued mark (io: 'worker' hands it to the I/O thread before the push). */
  wireOf(id: number): string {
    return this.queued.get(id)?.wire ?? '';
  }

  /** The pacer reached the mark: returns the message to send, or null if it was settled meanwhile. */
  sent(id: number): string | null {
    const m = this.queued.get(id);
    if (!m) return null;
    this.queued.delete(id);
    m.clearsAtSend = this.clearsSent;
    if (m.internal) this.internalSent++;
    this.inFlight.push(m);
    return m.wire;
  }

  echoed(name: string): Echo | null {
    const at = this.inFlight.findIndex((m) => m.name === name);
    if (at < 0) return null;
    const [m] = this.inFlight.splice(at, 1);
    // The carrier echoes marks it flushed on clear too: those were never heard.
    const played = m!.clearsAtSend >= this.clearsSent;
    const result = this.settle(m!, played ? 'played' : 'cleared');
    return { result: m!.internal ? null : result, seq: m!.seq, played };
  }

  clearQueued(): MarkResult[] {
    const out = this.settleAll([...this.queued.values()], 'cleared');
    this.queued.clear();
    return out;
  }

  /** Marks sent but not echoed, for a carrier whose clear drops them without a word. */
  clearInFlight(): MarkResult[] {
    const out = this.settleAll(this.inFlight, 'cleared');
    this.inFlight.length = 0;
    return out;
  }

  noteClearSent(): void {
    this.clearsSent++;
  }

  dropped(id: number): MarkResult[] {
    const m = this.queued.get(id);
    if (!m) return [];
    this.queued.delete(id);
    return this.settleAll([m], 'dropped');
  }

  closeAll(): MarkResult[] {
    const out = this.settleAll([...this.queued.values(), ...this.inFlight], 'closed');
    this.queued.clear();
    this.inFlight.length = 0;
    return out;
  }

  /** Settle each; returns the app's results (the engine's own marks are only counted off). */
  private settleAll(marks: PendingMark[], status: MarkStatus): MarkResult[] {
    const out: MarkResult[] = [];
    for (const m of marks) {
      const r = this.settle(m, status);
      if (!m.internal) out.push(r);
    }
    return out;
  }

  private settle(m: PendingMark, status: MarkStatus): MarkResult {
    if (m.internal) this.internalPending--;
    this.outcomes[status]++;
    const result = { name: m.name, status };
    m.resolve(result);
    return result;
  }
}

function noop(): void {}
