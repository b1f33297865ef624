/**
 * The pacer thread: one for all calls. PacerLoop does the pacing; this file gives it the real
 * clock, Atomics.wait on the control block, the port to main and the diagnostic crashes.
 * Commands arrive on a MessagePort that is polled synchronously (receiveMessageOnPort), because
 * this thread never returns to its event loop while it paces.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { AttentionReader } from '../src/pacer/attention-ring.js';
import { PacerCore } from '../src/pacer/pacer-core.js';
import { PacerLoop } from '../src/pacer/pacer-loop.js';
import { C_TID, C_WAKE, type PacerCommand, type PacerHello, type PacerOptions } from '../src/pacer/pacer-layout.js';

interface PacerWorkerData {
  control: SharedArrayBuffer;
  attentionSlots: number;
  commands: MessagePort;
  /** Where batches go (main, or the I/O thread), and where their buffers come back from. */
  handback: MessagePort;
  options: PacerOptions;
}

const { control, attentionSlots, commands, options } = workerData as PacerWorkerData;
let handback = (workerData as PacerWorkerData).handback;
const ctl = new Int32Array(control);
const port = parentPort!;

// Raise (or lower) only this thread's priority: on Linux, setpriority(PRIO_PROCESS, 0) from a
// thread applies to that thread, so main and the rest of the process keep theirs. Lowering the
// nice value needs CAP_SYS_NICE; without it the pacer runs on and the stats say why.
let niceError: string | null = null;
if (options.nice !== null) {
  try {
    setPriority(0, options.nice);
  } catch (err) {
    niceError = (err as Error).message;
  }
}
const nice = ((): number | null => {
  try {
    return getPriority(0);
  } catch {
    return null;
  }
})();

/** This thread's kernel id, so main can read its CPU time from /proc without this thread doing I/O. */
function threadId(): number {
  try {
    return Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
const tid = threadId();
Atomics.store(ctl, C_TID, tid);

// A thread may set its own timer slack without privilege (a write to another thread's needs
// CAP_SYS_NICE). Done once here, before pacing: the loop itself does no I/O.
let timerSlackError: string | null = null;
const slackFile = `/proc/${tid}/timerslack_ns`;
if (options.timerSlackNs !== undefined && options.timerSlackNs !== null && tid > 0) {
  try {
    writeFileSync(slackFile, String(options.timerSlackNs));
  } catch (err) {
    timerSlackError = (err as Error).message;
  }
}
const timerSlackNs = ((): number | null => {
  if (tid === 0) return null;
  try {
    return Number(readFileSync(slackFile, 'utf8').trim());
  } catch {
    return null;
  }
})();
port.postMessage({ type: 'hello', tid, nice, niceError, timerSlackNs, timerSlackError } satisfies PacerHello);

const loop = new PacerLoop(control, new PacerCore(options, new AttentionReader(control, attentionSlots)), options, {
  now: () => performance.now(),
  busy: (iterations) => {
    // Atomic loads: work the compiler must keep (they are ordered memory accesses), touching
    // nothing but one shared word. SpinWait times them, so their cost need not be known.
    for (let i = 0; i < iterations; i++) Atomics.load(ctl, C_WAKE);
  },
  wait: (seq, ms) => Atomics.wait(ctl, C_WAKE, seq, ms),
  post: (batch) => handback.postMessage(batch, [batch]),
  poll: () =>
    (receiveMessageOnPort(commands) ?? receiveMessageOnPort(handback))?.message as
      PacerCommand | ArrayBuffer | undefined,
  handBackTo: (next) => {
    handback.close();
    handback = next;
  },
  heapUsedBytes: () => getHeapStatistics().used_heap_size,
  crash: (kind) => {
    if (kind === 'exit') process.exit(1); // ends this thread only, with exit code 1
    if (kind === 'hang') for (;;); // a bug that never returns: only main's watchdog can end it
    throw new Error('pacer crash requested for diagnostics');
  },
});
loop.run();
commands.close();
handback.close();
