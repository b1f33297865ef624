import { EventEmitter } from 'node:events';
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import { ErrorCodes, PtimeError } from '../errors.js';
import { readBatch, type BatchVisitor } from './batch-reader.js';
import type { PacerPort } from './pacer-port.js';
import {
  C_ACKED,
  C_TICKS,
  C_WAKE,
  CONTROL_BYTES,
  type PacerCommand,
  type PacerOptions,
  type PacerStats,
} from './pacer-layout.js';

/** Receives the records the pacer hands back for one lane. */
export interface LaneSink {
  /** A due frame: `wire` is the complete Twilio `media` message, ready for ws.send. */
  onFrame(gen: number, wire: Buffer | string): void;
  onMark(gen: number, markId: number): void;
}

export interface PacerHostEvents {
  stats: [PacerStats];
  error: [Error];
  exit: [number];
}

const WORKER_URL = new URL('../../workers/pacer.js', import.meta.url);

/**
 * Main-thread side of the pacer worker: starts it, sends lane commands, and dispatches each
 * handed-back batch to the lane sinks. Main never blocks on Atomics: it only notifies.
 */
export class PacerHost extends EventEmitter<PacerHostEvents> implements PacerPort {
  private readonly worker: Worker;
  private readonly commands: MessagePort;
  private readonly ctl: Int32Array;
  private readonly sinks: (LaneSink | undefined)[] = [];
  private exited = false;
  private readonly visitor: BatchVisitor = {
    frame: (lane, gen, wire) => this.sinks[lane]?.onFrame(gen, wire),
    mark: (lane, gen, markId) => this.sinks[lane]?.onMark(gen, markId),
  };
  private readonly exitPromise: Promise<number>;

  constructor(options: PacerOptions) {
    super();
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.ctl = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    this.commands = port1;
    this.worker = new Worker(WORKER_URL, {
      workerData: { control, commands: port2, options },
      transferList: [port2],
      name: 'ptime-pacer',
    });
    this.worker.on('message', (msg: ArrayBuffer | PacerStats) => {
      if (msg instanceof ArrayBuffer) this.dispatch(msg);
      else this.emit('stats', msg);
    });
    this.worker.on('error', (err) => {
      this.emit('error', new PtimeError(ErrorCodes.PACER_FAILED, `pacer worker failed: ${err.message}`));
    });
    this.exitPromise = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.exited = true;
        this.commands.close();
        this.emit('exit', code);
        resolve(code);
      });
    });
  }

  /** Timed wakes of the pacer so far (advances even while main is blocked). */
  get ticks(): number {
    return Atomics.load(this.ctl, C_TICKS);
  }

  /** Start pacing a lane; each frame goes out as `prefix + base64(frame) + suffix`. */
  open(lane: number, sab: SharedArrayBuffer, prefix: Uint8Array, suffix: Uint8Array, sink: LaneSink): void {
    this.sinks[lane] = sink;
    this.command({ op: 'open', lane, sab, prefix, suffix });
  }

  close(lane: number): void {
    this.sinks[lane] = undefined;
    this.command({ op: 'close', lane });
  }

  /** Wake the pacer out of Atomics.wait (a parked lane got audio, or a lane was cleared). */
  wake(): void {
    Atomics.add(this.ctl, C_WAKE, 1);
    Atomics.notify(this.ctl, C_WAKE);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.command({ op: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exitPromise;
    clearTimeout(timer);
  }

  private command(cmd: PacerCommand): void {
    if (this.exited) return;
    this.commands.postMessage(cmd);
    this.wake();
  }

  private dispatch(batch: ArrayBuffer): void {
    // The batch was transferred to us and is never reused, so the frame views need no copy.
    readBatch(batch, this.visitor);
    Atomics.add(this.ctl, C_ACKED, 1);
  }
}
