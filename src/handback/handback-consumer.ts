import { type MessagePort } from 'node:worker_threads';
import { C_ACKED } from '../pacer/pacer-layout.js';
import type { LaneSink } from '../pacer/pacer-port.js';
import { readBatch, type BatchVisitor } from './batch-reader.js';
import { HeldBatches } from './held-batches.js';

export type { LaneSink } from '../pacer/pacer-port.js';

export interface HandbackHooks {
  /** Before each batch (the I/O thread applies main's commands first: they may bind its lanes). */
  before?(): void;
  /** A lane's sink threw: that record is lost, the rest of the batch still goes out. */
  failed(lane: number, error: unknown): void;
}

interface Bound {
  readonly owner: number;
  readonly sink: LaneSink;
}

/** A replaced pacer's port is closed once the batches it had posted have had time to arrive. */
const RETIRE_PORT_MS = 1000;

/**
 * The one way back for a frame, on the thread that owns the sockets (main with io: 'main', the I/O
 * thread with io: 'worker'): takes each batch the pacer hands back, gives every record to its
 * lane's sink (checked against the lane's owner, so a record built for a call that has left the
 * lane goes nowhere), acknowledges the batch (ACKED, the pacer's back-pressure gate) and gives the
 * buffer back to the pacer, at once or, while a socket still reads from it, once it has let go.
 *
 * At a pacer restart the new hand-back port replaces the old one: batches still queued on the old
 * port are delivered in order but not acknowledged (the new pacer counts from ACKED) nor reused.
 */
export class HandbackConsumer {
  private readonly lanes: (Bound | undefined)[] = [];
  private port: MessagePort | null = null;
  private ctl: Int32Array | null = null;
  private readonly holds = new HeldBatches<MessagePort>((batch, port) => {
    if (port === this.port) port.postMessage(batch, [batch]);
  });
  private readonly visitor: BatchVisitor = {
    frame: (lane, gen, owner, wire, frames) => {
      const b = this.lanes[lane];
      if (!b || b.owner !== owner) return false;
      try {
        const held = b.sink.onFrame(gen, wire, frames);
        if (held) this.holds.held(b.sink);
        return held;
      } catch (error) {
        this.hooks.failed(lane, error);
        this.holds.held(undefined); // it may have kept the view before it threw: never reuse the batch
        return true;
      }
    },
    mark: (lane, gen, owner, markId) => {
      const b = this.lanes[lane];
      if (!b || b.owner !== owner) return;
      try {
        b.sink.onMark(gen, markId);
      } catch (error) {
        this.hooks.failed(lane, error);
      }
    },
  };

  constructor(private readonly hooks: HandbackHooks) {}

  /** Lane `lane`'s records of owner `owner` go to `sink` from now on. */
  bind(lane: number, owner: number, sink: LaneSink): void {
    this.lanes[lane] = { owner, sink };
  }

  /** The lane's call ended: its records go nowhere (only if `sink` is still the bound one). */
  unbind(lane: number, sink: LaneSink): void {
    if (this.lanes[lane]?.sink === sink) this.lanes[lane] = undefined;
  }

  /** The sink bound to lane `lane` (a replacement pacer on this thread hands its records straight to it). */
  sink(lane: number): LaneSink | undefined {
    return this.lanes[lane]?.sink;
  }

  /** The pacer's hand-back port (at every pacer start) and its control block, whose ACKED word this advances. */
  use(port: MessagePort, control: SharedArrayBuffer): void {
    const old = this.port;
    if (old) setTimeout(() => old.close(), RETIRE_PORT_MS).unref();
    this.port = port;
    this.ctl = new Int32Array(control);
    port.on('message', (batch: ArrayBuffer) => this.consume(batch, port));
  }

  /** Stop taking batches (the pacer has stopped). */
  close(): void {
    this.port?.close();
    this.port = null;
  }

  /** Held batches: given back once their sockets drained, left to the GC, waiting now. */
  get heldBatches(): { returned: number; abandoned: number; waiting: number } {
    return { returned: this.holds.returned, abandoned: this.holds.abandoned, waiting: this.holds.waiting };
  }

  private consume(batch: ArrayBuffer, port: MessagePort): void {
    this.hooks.before?.();
    this.holds.poll();
    let held: boolean;
    try {
      held = readBatch(batch, this.visitor);
    } finally {
      // Acknowledged even if a sink threw: the backlog must not stay owed for ever.
      if (port === this.port && this.ctl) Atomics.add(this.ctl, C_ACKED, 1);
    }
    this.holds.settle(batch, port, held);
  }
}
