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
}

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

  get pending(): number {
    return this.queued.size + this.inFlight.length;
  }

  add(name: string): { id: number; done: Promise<MarkResult> } {
    if (typeof name !== 'string' || name.length === 0) {
      throw new PtimeError(ErrorCodes.MARK_NAME, 'mark name must be a non-empty string');
    }
    const bytes = Buffer.byteLength(name);
    if (bytes > this.maxNameBytes) {
      throw new PtimeError(ErrorCodes.MARK_NAME, `mark name is ${bytes} bytes; the limit (${this.limitLabel}) is ${this.maxNameBytes}`);
    }
    const id = this.nextId;
    this.nextId = (this.nextId % 0x7fff_ffff) + 1;
    let resolve!: (r: MarkResult) => void;
    const done = new Promise<MarkResult>((r) => (resolve = r));
    this.queued.set(id, { name, wire: this.buildWire(name), resolve, clearsAtSend: 0 });
    return { id, done };
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
    this.inFlight.push(m);
    return m.wire;
  }

  echoed(name: string): MarkResult | null {
    const at = this.inFlight.findIndex((m) => m.name === name);
    if (at < 0) return null;
    const [m] = this.inFlight.splice(at, 1);
    // The carrier echoes marks it flushed on clear too: those were never heard.
    return this.settle(m!, m!.clearsAtSend < this.clearsSent ? 'cleared' : 'played');
  }

  clearQueued(): MarkResult[] {
    const out = [...this.queued.values()].map((m) => this.settle(m, 'cleared'));
    this.queued.clear();
    return out;
  }

  /** Marks sent but not echoed, for a carrier whose clear drops them without a word. */
  clearInFlight(): MarkResult[] {
    const out = this.inFlight.map((m) => this.settle(m, 'cleared'));
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
    return [this.settle(m, 'dropped')];
  }

  closeAll(): MarkResult[] {
    const out = [...this.queued.values(), ...this.inFlight].map((m) => this.settle(m, 'closed'));
    this.queued.clear();
    this.inFlight.length = 0;
    return out;
  }

  private settle(m: PendingMark, status: MarkStatus): MarkResult {
    const result = { name: m.name, status };
    m.resolve(result);
    return result;
  }
}
