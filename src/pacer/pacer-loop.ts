import type { MessagePort } from 'node:worker_threads';
import type { PacerCore } from './pacer-core.js';
import { SpinWait } from './spin-wait.js';
import {
  C_ACKED,
  C_BATCH_ALLOCS,
  C_BATCHES,
  C_HEAP_KB,
  C_SPIN_US,
  C_STALLS,
  C_TICKLOG_WR,
  C_TICKS,
  C_WAKE,
  P_CLOCK_READS,
  P_FRAMES,
  P_VISITS,
  P_OVERSHOOT_MS,
  P_POST_MS,
  P_SPIN_MS,
  P_STEP_MS,
  P_WAKES,
  PROFILE_BYTE,
  PROFILE_FIELDS,
  TICKLOG_BYTE,
  TICKLOG_SIZE,
  type PacerCommand,
  type PacerOptions,
} from './pacer-layout.js';

/** What the loop needs from its thread; the worker passes the real ones, tests a fake clock. */
export interface LoopDeps {
  now(): number;
  /**
   * Burn `iterations` of busy work the compiler cannot remove (the spin between clock reads: each
   * read allocates on this thread's heap, SpinWait).
   */
  busy(iterations: number): void;
  /** Atomics.wait on the WAKE word: sleep up to `ms` unless it no longer holds `seq` or is notified. */
  wait(seq: number, ms: number): 'ok' | 'not-equal' | 'timed-out';
  /** Hand a batch to main (transferred). */
  post(batch: ArrayBuffer): void;
  /** The next message from main (a command, or a batch buffer given back), or undefined. */
  poll(): PacerCommand | ArrayBuffer | undefined;
  /** Post batches to `port` from now on (and read returned buffers from it). */
  handBackTo(port: MessagePort): void;
  /** The thread's V8 heap in use, bytes (read once a second). */
  heapUsedBytes(): number;
  /** A diagnostic crash was asked for. */
  crash(kind: 'throw' | 'exit' | 'hang'): void;
}

/** Longest single sleep: the heap figure is refreshed at least this often, even with no calls. */
const MAX_SLEEP_MS = 1000;
/** Retry period while main has not dispatched maxInflightBatches batches. */
const STALL_RETRY_MS = 5;
/** Adaptive spin: keep this much above the measured overshoot, within these bounds (µs). */
const SPIN_MARGIN_US = 50;

/**
 * The pacer thread's loop, one `turn()` per wake, with its clock, wait and post injected. It
 * sleeps in Atomics.wait until `spin` before the next deadline, spins the rest, runs
 * PacerCore.step and posts the batch. Everything it reports goes into the control block as plain
 * stores (ticks, the tick log, profile sums): no I/O, no encoding, no allocation on this thread.
 */
export class PacerLoop {
  private readonly ctl: Int32Array;
  private readonly profile: Float64Array;
  private readonly tickLog: Int32Array;
  private running = true;
  private posted: number;
  private ticks: number;
  private stalls: number;
  private logWr: number;
  private lastHeapAt = Number.NEGATIVE_INFINITY;
  private spinMs: number;
  /** Recent Atomics.wait overshoots (µs), for the adaptive spin. */
  private readonly overshoots = new Float64Array(64);
  private overshootAt = 0;
  private overshootCount = 0;
  private framesReported = 0;
  /** Each lane's buffer as main last sent it (a reused lane's `open` comes without it). */
  private readonly sabs: (SharedArrayBuffer | undefined)[] = [];
  private visitsReported = 0;
  private readonly spin: SpinWait;
  private readsReported = 0;

  constructor(
    control: SharedArrayBuffer,
    private readonly core: PacerCore,
    private readonly options: PacerOptions,
    private readonly deps: LoopDeps,
  ) {
    this.ctl = new Int32Array(control);
    this.profile = new Float64Array(control, PROFILE_BYTE, PROFILE_FIELDS);
    this.tickLog = new Int32Array(control, TICKLOG_BYTE, TICKLOG_SIZE);
    // A replacement worker carries the counters on; its backlog starts at what main acknowledged.
    this.posted = Atomics.load(this.ctl, C_ACKED);
    this.ticks = Atomics.load(this.ctl, C_TICKS);
    this.stalls = Atomics.load(this.ctl, C_STALLS);
    this.logWr = Atomics.load(this.ctl, C_TICKLOG_WR);
    this.spinMs = options.spinUs / 1000;
    this.spin = new SpinWait(
      () => deps.now(),
      (n) => deps.busy(n),
    );
    Atomics.store(this.ctl, C_SPIN_US, options.spinUs);
  }

  /** Run until a `stop` command. */
  run(): void {
    while (this.turn());
  }

  /** One wake: commands, a step, the sleep and the spin up to the next deadline. False once stopped. */
  turn(): boolean {
    const d = this.deps;
    const wakeSeq = Atomics.load(this.ctl, C_WAKE);
    this.drainMessages();
    if (!this.running) return false;
    let now = this.spin.read();
    let next: number;
    // Compared by int32 difference: both counters wrap after 2^31 batches.
    if (((this.posted - Atomics.load(this.ctl, C_ACKED)) | 0) > this.options.maxInflightBatches) {
      // Main is not draining: frames stay in their lanes, where drop-oldest bounds them.
      this.stalls = (this.stalls + 1) | 0;
      Atomics.store(this.ctl, C_STALLS, this.stalls);
      next = now + STALL_RETRY_MS;
    } else {
      next = this.core.step(now);
      const stepped = this.spin.read();
      this.profile[P_STEP_MS]! += stepped - now;
      const batch = this.core.batch.take();
      if (batch) {
        d.post(batch);
        this.posted = (this.posted + 1) | 0;
        Atomics.store(this.ctl, C_BATCHES, this.posted);
        this.profile[P_POST_MS]! += this.spin.read() - stepped;
      }
      this.profile[P_FRAMES]! += this.core.framesBuilt - this.framesReported;
      this.framesReported = this.core.framesBuilt;
      this.profile[P_VISITS]! += this.core.lanesVisited - this.visitsReported;
      this.visitsReported = this.core.lanesVisited;
    }
    this.profile[P_WAKES]!++;
    if (now - this.lastHeapAt >= MAX_SLEEP_MS) {
      this.lastHeapAt = now;
      Atomics.store(this.ctl, C_HEAP_KB, Math.round(d.heapUsedBytes() / 1024));
      Atomics.store(this.ctl, C_BATCH_ALLOCS, this.core.batch.allocations);
    }
    // The sleep is measured from after the work above, not from the `now` taken before it.
    now = this.spin.read();
    const until = Math.min(next, now + MAX_SLEEP_MS);
    const sleepMs = until - now - this.spinMs;
    let overshootUs = 0;
    if (sleepMs > 0) {
      const r = d.wait(wakeSeq, sleepMs);
      if (r !== 'timed-out') return true; // main woke us: commands or new audio
      const woke = this.spin.read();
      const overshootMs = Math.max(0, woke - (now + sleepMs));
      this.profile[P_OVERSHOOT_MS]! += overshootMs;
      overshootUs = Math.round(overshootMs * 1000);
      this.noteOvershoot(overshootUs);
    }
    if (until !== next) return true; // a housekeeping wake, not a deadline
    // Atomics.wait overshoots, so the last stretch is a busy wait.
    const spinFrom = this.spin.read();
    now = this.spin.until(next, spinFrom);
    this.profile[P_SPIN_MS]! += now - spinFrom;
    this.profile[P_CLOCK_READS]! += this.spin.reads - this.readsReported;
    this.readsReported = this.spin.reads;
    this.recordTick(Math.round((now - next) * 1000), overshootUs);
    return true;
  }

  private recordTick(errorUs: number, overshootUs: number): void {
    const mask = TICKLOG_SIZE - 1;
    this.tickLog[this.logWr & mask] = errorUs;
    this.tickLog[(this.logWr + 1) & mask] = overshootUs;
    this.logWr = (this.logWr + 2) | 0;
    Atomics.store(this.ctl, C_TICKLOG_WR, this.logWr);
    this.ticks = (this.ticks + 1) | 0;
    Atomics.store(this.ctl, C_TICKS, this.ticks);
  }

  /**
   * Adaptive spin (options.adaptiveSpin, between spinMinUs and spinMaxUs): spin for the
   * 2nd-largest of the last 64 overshoots plus a margin, so the deadline is met by the busy-wait
   * unless the thread was not scheduled at all, and no more CPU is spent spinning than the
   * wake-ups need where they are punctual (less than the 300 µs a fixed spin allows for a loaded
   * machine; on this project's VM they rarely are: bench/results/pacer-precision.md).
   */
  private noteOvershoot(us: number): void {
    this.overshoots[this.overshootAt] = us;
    this.overshootAt = (this.overshootAt + 1) & 63;
    if (this.overshootCount < 64) this.overshootCount++;
    if (this.options.adaptiveSpin !== true || this.overshootCount < 16) return;
    let first = 0;
    let second = 0;
    for (let i = 0; i < this.overshootCount; i++) {
      const v = this.overshoots[i]!;
      if (v > first) {
        second = first;
        first = v;
      } else if (v > second) second = v;
    }
    const floor = this.options.spinMinUs ?? this.options.spinUs;
    const spinUs = Math.min(this.options.spinMaxUs ?? 2000, Math.max(floor, second + SPIN_MARGIN_US));
    this.spinMs = spinUs / 1000;
    Atomics.store(this.ctl, C_SPIN_US, Math.round(spinUs));
  }

  private drainMessages(): void {
    for (;;) {
      const msg = this.deps.poll();
      if (msg === undefined) return;
      if (msg instanceof ArrayBuffer) {
        this.core.batch.recycle(msg);
        continue;
      }
      if (msg.op === 'open') {
        const sab = msg.sab ?? this.sabs[msg.lane];
        if (sab === undefined)
          throw new Error(`open of lane ${msg.lane} without its buffer, which this worker was never sent`);
        this.sabs[msg.lane] = sab;
        this.core.open(msg.lane, sab, msg.wire, msg.owner);
      } else if (msg.op === 'close') this.core.close(msg.lane);
      else if (msg.op === 'crash') this.deps.crash(msg.kind);
      else if (msg.op === 'handback') {
        this.deps.handBackTo(msg.port);
        // Batches posted to the old port were lost with the thread that read it: owed by no one.
        this.posted = Atomics.load(this.ctl, C_ACKED);
      } else this.running = false;
    }
  }
}
