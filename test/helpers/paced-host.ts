import { HandbackConsumer, type LaneSink } from '../../src/handback/handback-consumer.js';
import { PacerHost, type PacerHostOptions } from '../../src/pacer/pacer-host.js';
import type { LaneWire, PacerOptions } from '../../src/pacer/pacer-layout.js';
import { H_OWNER } from '../../src/ring/lane-layout.js';

/**
 * The pacer worker with its batches taken on this thread by a hand-back consumer, wired as the
 * engine wires them with io: 'main'; open() also binds the lane's sink.
 */
export class PacedHost extends PacerHost {
  readonly consumer: HandbackConsumer;
  /** Sinks that threw (each cost only that lane's record). */
  readonly sinkErrors: { lane: number; error: unknown }[];

  constructor(options: PacerOptions, hostOptions: Partial<Omit<PacerHostOptions, 'handbackTo'>> = {}) {
    const sinkErrors: { lane: number; error: unknown }[] = [];
    const consumer = new HandbackConsumer({ failed: (lane, error) => sinkErrors.push({ lane, error }) });
    super(options, { ...hostOptions, handbackTo: (port, control) => consumer.use(port, control) });
    this.consumer = consumer;
    this.sinkErrors = sinkErrors;
  }

  override open(lane: number, sab: SharedArrayBuffer, wire: LaneWire, sink?: LaneSink): void {
    if (sink) this.consumer.bind(lane, Atomics.load(new Int32Array(sab), H_OWNER), sink);
    super.open(lane, sab, wire);
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.consumer.close();
  }

  get heldBatches(): { returned: number; abandoned: number; waiting: number } {
    return this.consumer.heldBatches;
  }
}
