import { Worker } from 'node:worker_threads';
import type { AudioFormat } from '../codec/audio-format.js';
import type { RecorderCommand, RecorderReply } from './recorder-protocol.js';

const WORKER_URL = new URL('../../workers/recorder.js', import.meta.url);
/** How long engine.close() waits for the recorder thread to finish its files. */
const STOP_TIMEOUT_MS = 5000;

/** What a recording hears back from the recorder thread. */
export interface RecordingOutcome {
  failed(reason: string): void;
  /** The file's next bytes, for a recording to the application's stream (path null). */
  data(bytes: Uint8Array): void;
  done(info: { bytes: number; durationMs: number }): void;
}

/**
 * Main's side of the recorder thread: started with the first recording, one for the engine. A
 * recording is an id; its commands are posted in order and its outcome comes back once. If the
 * thread dies, every recording open on it fails (the calls go on) and the next one starts a new
 * thread.
 */
export class RecorderHost {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly open = new Map<number, RecordingOutcome>();
  private stopped = false;

  /**
   * Start a recording to the file `path` (null: its bytes come to `outcome.data`); returns its id,
   * or 0 (and `outcome.failed` soon after) once the engine is closing.
   */
  start(path: string | null, format: AudioFormat, outcome: RecordingOutcome): number {
    if (this.stopped) {
      queueMicrotask(() => outcome.failed('the engine is closing'));
      return 0;
    }
    const id = this.nextId++;
    this.open.set(id, outcome);
    this.post({ op: 'open', id, path, encoding: format.encoding, sampleRate: format.sampleRate });
    return id;
  }

  audio(id: number, bytes: Uint8Array<ArrayBuffer>, segs: Int32Array<ArrayBuffer>, safe: number): void {
    if (this.open.has(id)) this.post({ op: 'audio', id, bytes, segs, safe }, [bytes.buffer, segs.buffer]);
  }

  close(id: number, end: number): void {
    if (this.open.has(id)) this.post({ op: 'close', id, end });
  }

  /** Finish every file (their 'recorded' outcomes come first), then end the thread. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      worker.on('message', (msg: { op: string }) => {
        if (msg.op === 'stopped') {
          clearTimeout(timer);
          resolve();
        }
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    worker.postMessage({ op: 'stop' });
    await stopped;
    this.worker = null;
    await worker.terminate();
  }

  private post(cmd: RecorderCommand, transfer: ArrayBuffer[] = []): void {
    this.ensureWorker().postMessage(cmd, transfer);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_URL, { name: 'ptime-recorder' });
    this.worker = worker;
    worker.on('message', (msg: RecorderReply | { op: 'stopped' }) => {
      if (msg.op === 'stopped') return;
      const outcome = this.open.get(msg.id);
      if (!outcome) return;
      if (msg.op === 'data') {
        outcome.data(msg.bytes);
        return;
      }
      this.open.delete(msg.id);
      if (msg.op === 'failed') outcome.failed(msg.message);
      else outcome.done({ bytes: msg.bytes, durationMs: msg.durationMs });
    });
    let error: Error | null = null;
    worker.on('error', (err) => (error ??= err));
    worker.once('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      const reason = `the recorder thread ${error ? `failed: ${error.message}` : `exited (code ${code})`}`;
      const open = [...this.open.values()];
      this.open.clear();
      for (const outcome of open) outcome.failed(reason);
    });
    return worker;
  }
}
