interface Step {
  ready: boolean;
  apply: () => void;
  /** mu-law bytes the step writes, counted while it waits. */
  bytes: number;
}

/** Fills a place reserved in an OutboundOrder; ignored if the order was cancelled since. */
export type FillPlace = (apply: () => void, bytes: number) => void;

/**
 * Keeps a call's outbound operations (audio, flushes, marks) in the order the application made
 * them while some of them wait for a codec pool job. With nothing outstanding an operation runs
 * at once, so plain send()/mark() stay synchronous. Once a pool job holds a place, everything
 * after it queues here and runs as soon as every place ahead of it is filled, whatever order the
 * pool's workers finish in.
 */
export class OutboundOrder {
  private readonly steps: Step[] = [];
  private head = 0;
  private epoch = 0;
  private waiting = 0;

  /** True while some operation is waiting for a pool job ahead of it. */
  get busy(): boolean {
    return this.head < this.steps.length;
  }

  /**
   * mu-law bytes held here behind a pool job: audio the application has handed over and that is
   * not in the ring yet, so it counts against the high-water mark like queued audio.
   */
  get waitingBytes(): number {
    return this.waiting;
  }

  /** Run `apply` (which writes `bytes` of mu-law) now if nothing is waiting, else after everything queued before it. */
  run(apply: () => void, bytes: number): void {
    if (!this.busy) return apply();
    this.steps.push({ ready: true, apply, bytes });
    this.waiting += bytes;
  }

  /** Hold a place for a result that arrives later; fill it with the operation to run there. */
  reserve(): FillPlace {
    const step: Step = { ready: false, apply: noop, bytes: 0 };
    this.steps.push(step);
    const epoch = this.epoch;
    return (apply, bytes) => {
      if (epoch !== this.epoch) return; // cleared or closed since: the result is stale
      step.apply = apply;
      step.bytes = bytes;
      step.ready = true;
      this.waiting += bytes;
      this.pump();
    };
  }

  /** Drop everything waiting (barge-in or close); places filled later are ignored. */
  cancel(): void {
    this.epoch++;
    this.steps.length = 0;
    this.head = 0;
    this.waiting = 0;
  }

  private pump(): void {
    while (this.head < this.steps.length && this.steps[this.head]!.ready) {
      const step = this.steps[this.head++]!;
      this.waiting -= step.bytes;
      step.apply();
    }
    if (this.head === this.steps.length) {
      this.steps.length = 0;
      this.head = 0;
    }
  }
}

function noop(): void {}
