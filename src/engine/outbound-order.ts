interface Step {
  ready: boolean;
  apply: () => void;
}

/** Fills a place reserved in an OutboundOrder; ignored if the order was cancelled since. */
export type FillPlace = (apply: () => void) => void;

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

  /** True while some operation is waiting for a pool job ahead of it. */
  get busy(): boolean {
    return this.head < this.steps.length;
  }

  /** Run `apply` now if nothing is waiting, else after everything queued before it. */
  run(apply: () => void): void {
    if (!this.busy) apply();
    else this.steps.push({ ready: true, apply });
  }

  /** Hold a place for a result that arrives later; fill it with the operation to run there. */
  reserve(): FillPlace {
    const step: Step = { ready: false, apply: noop };
    this.steps.push(step);
    const epoch = this.epoch;
    return (apply) => {
      if (epoch !== this.epoch) return; // cleared or closed since: the result is stale
      step.apply = apply;
      step.ready = true;
      this.pump();
    };
  }

  /** Drop everything waiting (barge-in or close); places filled later are ignored. */
  cancel(): void {
    this.epoch++;
    this.steps.length = 0;
    this.head = 0;
  }

  private pump(): void {
    while (this.head < this.steps.length && this.steps[this.head]!.ready) {
      const step = this.steps[this.head++]!;
      step.apply();
    }
    if (this.head === this.steps.length) {
      this.steps.length = 0;
      this.head = 0;
    }
  }
}

function noop(): void {}
