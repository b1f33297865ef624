import { MAX_PARKED_BATCHES } from '../pacer/pacer-layout.js';

/** Something that kept a view into a batch: a socket that queued a frame without copying it. */
export interface HoldProbe {
  /** True while bytes given to the socket may still be read from the view (queued, not yet written). */
  holding(): boolean;
}

/** How often parked batches are looked at when no batch arrives (a closed call's last one). */
const POLL_MS = 50;

interface Parked<P> {
  batch: ArrayBuffer;
  port: P;
  /**
   * Weak: a parked batch must not keep an ended call (and its socket) alive. A holder that has
   * been collected cannot answer, so its batch is left to the GC rather than reused.
   */
  probes: WeakRef<HoldProbe>[];
}

/**
 * Gives hand-back batches back to the pacer, including the ones a socket still holds a view into:
 * those wait here until every socket holding them has written its queue out (or closed), and then
 * go back too. Left to the GC instead, each made the pacer allocate a 64 KB buffer in its place,
 * freed later on the sending thread. Runs on the thread that sends (main or the I/O thread).
 */
export class HeldBatches<P> {
  /** Probes of the batch being read (reused: most batches have none). */
  private readonly probes: HoldProbe[] = [];
  /** A holder of the batch being read cannot say when it is done. */
  private unknown = false;
  private readonly parked: Parked<P>[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Held batches given back once their sockets drained. */
  returned = 0;
  /** Held batches left to the GC (a holder with no probe or collected while parked, or too many parked). */
  abandoned = 0;

  constructor(private readonly giveBack: (batch: ArrayBuffer, port: P) => void) {}

  /** While a batch is read: a frame's view was kept by `holder` (without holding(), or undefined: it cannot tell when it lets go). */
  held(holder: Partial<HoldProbe> | undefined): void {
    if (!holder?.holding) this.unknown = true;
    else if (!this.probes.includes(holder as HoldProbe)) this.probes.push(holder as HoldProbe); // holding() checked above
  }

  /** The batch has been read: give it back now, park it, or (a holder that cannot tell) let it go. */
  settle(batch: ArrayBuffer, port: P, held: boolean): void {
    const unknown = this.unknown;
    this.unknown = false;
    if (!held) {
      this.giveBack(batch, port); // no frame was kept, so no holder was recorded
      return;
    }
    if (unknown || this.probes.length === 0) {
      this.probes.length = 0;
      this.abandoned++;
      return;
    }
    const probes = this.probes.map((p) => new WeakRef(p));
    this.probes.length = 0;
    if (this.parked.length >= MAX_PARKED_BATCHES) {
      // Sockets that never drain: the oldest goes to the GC, the pacer allocates in its place.
      this.parked.shift();
      this.abandoned++;
    }
    this.parked.push({ batch, port, probes });
    this.lookAgain();
  }

  /** Give back every parked batch whose sockets have all let go (called once per batch received, and on a timer while any is parked). */
  poll(): void {
    if (this.parked.length === 0) return;
    let kept = 0;
    for (const p of this.parked) {
      const state = parkedState(p.probes);
      if (state === HOLDING) this.parked[kept++] = p;
      else if (state === GONE) this.abandoned++;
      else {
        this.returned++;
        this.giveBack(p.batch, p.port);
      }
    }
    this.parked.length = kept;
    this.lookAgain();
  }

  /**
   * Poll again soon while batches are parked: with no batch arriving (the last calls ended) they
   * would wait for ever, and with them the holders (each a call and its socket) stay reachable.
   */
  private lookAgain(): void {
    if (this.parked.length === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poll();
    }, POLL_MS).unref();
  }

  /** Batches waiting for their sockets. */
  get waiting(): number {
    return this.parked.length;
  }
}

const FREE = 0;
const HOLDING = 1;
const GONE = 2;

function parkedState(probes: readonly WeakRef<HoldProbe>[]): number {
  let state = FREE;
  for (const ref of probes) {
    const probe = ref.deref();
    if (probe === undefined) return GONE;
    if (probe.holding()) state = HOLDING;
  }
  return state;
}
