// Picks the pacer-worker → main hand-back channel by measurement:
//   A: one fresh ArrayBuffer per tick, transferred with postMessage (main takes zero-copy Buffer views)
//   B: SharedArrayBuffer SPSC ring of 320-byte slots, Atomics.notify → Atomics.waitAsync (main copies out)
// The receiving thread is main (io: 'main') or a worker thread of its own (io: 'worker': the I/O
// thread), with --receiver.
// Build: npx tsc -p tsconfig.json      Run: node dist/bench/handback-channel.js [--chan A,B]
//        [--n 100,500,1000] [--secs 5] [--reps 2] [--slots 8192] [--receiver main,worker]
// Every (channel, N, rep) runs in a fresh child process so JIT/GC state never leaks between configs.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { commandLine } from './lib/command-line.js';

// Record header [u32 lane, gen, kind, len]. Ring slot: header | message | f64 stamp at byte 312.
// Batch (A): f64 stamp | u32 count | pad, then records padded to 4.
const TICK_MS = 5,
  GROUPS = 4,
  SLOT = 320,
  HDR = 16,
  STAMP_OFF = 312,
  BATCH_HDR = 16;
const SPIN_MS = 0.3,
  WARMUP_MS = 500,
  STALL_MS = 200,
  TAIL_MS = 1000;
// Int32 word indexes into the control SAB; W and R sit on separate 64-byte lines so the two
// threads' stores don't false-share.
const W = 0,
  R = 16,
  WAKE = 32,
  STOP = 48,
  STALL = 64,
  SLEEP = 80,
  CTRL_BYTES = 384;
const KIND_MEDIA = 1,
  KIND_STALL = 0x100;

interface Cfg {
  chan: 'A' | 'B';
  n: number;
  secs: number;
  slots: number;
  receiver: 'main' | 'worker';
}
interface Done {
  type: 'done';
  produced: number;
  stallProduced: number;
  ringPeak: number;
  ringFullTicks: number;
  lateMaxUs: number;
}
interface Result {
  chan: string;
  receiver: string;
  n: number;
  fps: number;
  hdlUs: number;
  eluUs: number;
  thrUs: number;
  procUs: number;
  elu: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  stallProduced: number;
  stallRecvAfter: number;
  lost: number;
  reordered: number;
  recvVsProduced: number;
  catchUpMs: number;
  stallMaxLatMs: number;
  ringPeak: number;
  ringFullTicks: number;
  lateMaxUs: number;
  skewUs: number;
  sink: number;
}
// lib is ES2023, which predates the waitAsync typing; Node 20's V8 has it.
type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const now = (): number => performance.timeOrigin + performance.now();
// Each thread has its own timeOrigin; reporting (now - monotonic) from both sides proves the
// cross-thread latency figures aren't skewed by it.
const clockOffsetMs = (): number => now() - Number(process.hrtime.bigint()) / 1e6;
const pad4 = (x: number): number => (x + 3) & ~3;

// Twilio-shaped outbound media message, ~290 B (150 audio bytes) so header + message + stamp fit one
// 320-byte slot; a full 160-byte frame makes it 305 B, which would need 336-byte slots.
function wirePayload(lane: number): Uint8Array {
  const payload = Buffer.alloc(150, lane & 0xff).toString('base64');
  const b = Buffer.from(
    JSON.stringify({ event: 'media', streamSid: 'MZ' + lane.toString(16).padStart(32, '0'), media: { payload } }),
  );
  if (HDR + b.length > STAMP_OFF) throw new Error(`wire message ${b.length} B does not fit a ${SLOT}-byte slot`);
  return b;
}

// ---------------------------------------------------------------- worker (pacer) side
function pacer(cfg: Cfg, ctrl: Int32Array, ringSab: SharedArrayBuffer | null): void {
  const port = parentPort!;
  const n = cfg.n,
    mask = cfg.slots - 1;
  const payloads = Array.from({ length: n }, (_, i) => wirePayload(i));
  const gens = new Uint32Array(n);
  const ru32 = ringSab ? new Uint32Array(ringSab) : new Uint32Array(0);
  const ru8 = ringSab ? new Uint8Array(ringSab) : new Uint8Array(0);
  const rf64 = ringSab ? new Float64Array(ringSab) : new Float64Array(0);
  // Ring-full policy: defer FIFO instead of blocking the pacer or dropping; the frame is late, not lost.
  let pend: number[] = []; // flattened [lane, gen, kind, stamp]
  let w = 0,
    produced = 0,
    stallProduced = 0,
    ringPeak = 0,
    ringFullTicks = 0,
    lateMax = 0;
  port.postMessage({ type: 'ready', clockOffsetMs: clockOffsetMs() });
  let deadline = performance.now() + TICK_MS;
  for (let tick = 0; Atomics.load(ctrl, STOP) === 0; tick++, deadline += TICK_MS) {
    for (;;) {
      // sleep most of the gap, spin the last SPIN_MS: Atomics.wait alone overshoots by ~0.1-1 ms
      const rem = deadline - performance.now();
      if (rem <= 0) break;
      if (rem > SPIN_MS) Atomics.wait(ctrl, SLEEP, 0, rem - SPIN_MS);
    }
    const late = performance.now() - deadline;
    if (late > lateMax) lateMax = late;
    const stamp = now();
    const kind = Atomics.load(ctrl, STALL) ? KIND_MEDIA | KIND_STALL : KIND_MEDIA;
    const g = tick % GROUPS;
    const due = Math.ceil((n - g) / GROUPS);
    produced += due;
    if (kind & KIND_STALL) stallProduced += due;
    if (cfg.chan === 'A') {
      let size = BATCH_HDR;
      for (let l = g; l < n; l += GROUPS) size += HDR + pad4(payloads[l]!.length);
      const ab = new ArrayBuffer(size); // fresh per tick: transfer detaches it, so main may alias it
      const u32 = new Uint32Array(ab),
        u8 = new Uint8Array(ab);
      new Float64Array(ab, 0, 1)[0] = stamp;
      u32[2] = due;
      let off = BATCH_HDR;
      for (let l = g; l < n; l += GROUPS) {
        const p = payloads[l]!,
          q = off >> 2;
        u32[q] = l;
        u32[q + 1] = gens[l]!++;
        u32[q + 2] = kind;
        u32[q + 3] = p.length;
        u8.set(p, off + HDR);
        off += HDR + pad4(p.length);
      }
      port.postMessage(ab, [ab]);
      continue;
    }
    for (let l = g; l < n; l += GROUPS) pend.push(l, gens[l]!++, kind, stamp);
    const r = Atomics.load(ctrl, R);
    let i = 0;
    for (; i < pend.length && ((w - r) | 0) < cfg.slots; i += 4, w = (w + 1) | 0) {
      const base = (w & mask) * SLOT,
        q = base >> 2,
        p = payloads[pend[i]!]!;
      ru32[q] = pend[i]!;
      ru32[q + 1] = pend[i + 1]!;
      ru32[q + 2] = pend[i + 2]!;
      ru32[q + 3] = p.length;
      ru8.set(p, base + HDR);
      rf64[(base + STAMP_OFF) >> 3] = pend[i + 3]!;
    }
    if (i < pend.length) ringFullTicks++;
    pend = i === pend.length ? [] : pend.slice(i);
    ringPeak = Math.max(ringPeak, (w - r) | 0);
    if (i > 0) {
      // publish (store is the release), then bump+notify the wake word main parks on
      Atomics.store(ctrl, W, w);
      Atomics.add(ctrl, WAKE, 1);
      Atomics.notify(ctrl, WAKE);
    }
  }
  const done: Done = {
    type: 'done',
    produced,
    stallProduced,
    ringPeak,
    ringFullTicks,
    lateMaxUs: Math.round(lateMax * 1000),
  };
  port.postMessage(done);
}

// ---------------------------------------------------------------- main-thread side (one config)
// process.cpuUsage() is process-wide (worker spin included), so read the main thread alone.
// Linux only; the calling thread (main or the receiver worker). schedstat is ns-resolution, stat only 10 ms ticks.
function threadCpuMs(): number {
  const task = '/proc/thread-self';
  try {
    return Number(readFileSync(`${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    /* fall through */
  }
  try {
    const st = readFileSync(`${task}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}
const procCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

let sinkX = 0,
  sinkN = 0;
function sink(b: Buffer): void {
  sinkX ^= b[0]! ^ b[b.length - 1]!;
  sinkN++;
} // stands in for ws.send

async function runOne(cfg: Cfg): Promise<Result> {
  const ctrlSab = new SharedArrayBuffer(CTRL_BYTES),
    ctrl = new Int32Array(ctrlSab);
  const ringSab = cfg.chan === 'B' ? new SharedArrayBuffer(cfg.slots * SLOT) : null;
  const worker = new Worker(new URL(import.meta.url), { workerData: { cfg, ctrlSab, ringSab } });
  const hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const expectGen = new Uint32Array(cfg.n);
  let recv = 0,
    lost = 0,
    reordered = 0,
    measuring = false,
    handlerMs = 0;
  let stallEnd = Infinity,
    stallRecvAfter = 0,
    stallMaxLat = 0,
    lastStallT = 0,
    finished = false;

  const checkGen = (lane: number, gen: number): void => {
    const e = expectGen[lane]!;
    if (gen > e) lost += gen - e;
    else if (gen < e) reordered++;
    expectGen[lane] = gen + 1;
    recv++;
  };
  // Latency is booked once per tick-group (same stamp), so instrumentation cost is per batch in both channels.
  const note = (stamp: number, count: number, kind: number, t: number): void => {
    const lat = t - stamp;
    if (measuring) hist.recordValueWithCount(Math.max(1, Math.round(lat * 1000)), count);
    if (kind & KIND_STALL) {
      if (t > stallEnd) stallRecvAfter += count;
      stallMaxLat = Math.max(stallMaxLat, lat);
      lastStallT = t;
    }
  };

  const onBatch = (ab: ArrayBuffer): void => {
    const t = now(),
      h0 = performance.now();
    const u32 = new Uint32Array(ab),
      count = u32[2]!;
    let off = BATCH_HDR,
      kind = 0;
    for (let i = 0; i < count; i++) {
      const q = off >> 2,
        len = u32[q + 3]!;
      kind = u32[q + 2]!;
      sink(Buffer.from(ab, off + HDR, len)); // view, no copy: the transferred buffer is never reused
      checkGen(u32[q]!, u32[q + 1]!);
      off += HDR + pad4(len);
    }
    note(new Float64Array(ab, 0, 1)[0]!, count, kind, t);
    handlerMs += performance.now() - h0;
  };

  const mask = cfg.slots - 1;
  const ru32 = ringSab ? new Uint32Array(ringSab) : new Uint32Array(0);
  const rf64 = ringSab ? new Float64Array(ringSab) : new Float64Array(0);
  const ringBuf = ringSab ? Buffer.from(ringSab) : Buffer.alloc(0);
  let rd = 0;
  const drain = (): void => {
    const t = now(),
      h0 = performance.now(),
      w = Atomics.load(ctrl, W);
    let gStamp = -1,
      gCount = 0,
      gKind = 0;
    while (rd !== w) {
      const base = (rd & mask) * SLOT,
        q = base >> 2,
        len = ru32[q + 3]!,
        st = rf64[(base + STAMP_OFF) >> 3]!;
      const b = Buffer.allocUnsafe(len); // copy out: the slot is recycled as soon as R advances
      ringBuf.copy(b, 0, base + HDR, base + HDR + len);
      sink(b);
      checkGen(ru32[q]!, ru32[q + 1]!);
      if (st !== gStamp) {
        if (gCount) note(gStamp, gCount, gKind, t);
        gStamp = st;
        gCount = 0;
        gKind = ru32[q + 2]!;
      }
      gCount++;
      rd = (rd + 1) | 0;
      if ((rd & 255) === 0) Atomics.store(ctrl, R, rd); // free space early during a long backlog drain
    }
    if (gCount) note(gStamp, gCount, gKind, t);
    Atomics.store(ctrl, R, rd);
    handlerMs += performance.now() - h0;
  };
  const pump = (): void => {
    while (!finished) {
      const seen = Atomics.load(ctrl, WAKE); // read before draining so a publish mid-drain changes it
      drain();
      const res = waitAsync(ctrl, WAKE, seen);
      if (res.async) {
        void res.value.then(pump);
        return;
      }
      // sync "not-equal": the worker published during drain; loop rather than recurse
    }
  };

  let skewUs = 0;
  const ready = new Promise<void>((res) =>
    worker.once('message', (m: { clockOffsetMs: number }) => {
      skewUs = (m.clockOffsetMs - clockOffsetMs()) * 1000;
      res();
    }),
  );
  const done = new Promise<Done>((res) =>
    worker.on('message', (m: unknown) => {
      if (m instanceof ArrayBuffer) onBatch(m);
      else if ((m as Done).type === 'done') res(m as Done);
    }),
  );
  worker.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
  await ready;
  if (cfg.chan === 'B') pump();

  await sleep(WARMUP_MS);
  const elu0 = performance.eventLoopUtilization(),
    t0 = performance.now(),
    thr0 = threadCpuMs(),
    proc0 = procCpuMs();
  const recv0 = recv;
  handlerMs = 0;
  measuring = true;
  await sleep(cfg.secs * 1000);
  measuring = false;
  const elu = performance.eventLoopUtilization(elu0),
    secs = (performance.now() - t0) / 1000;
  const frames = recv - recv0,
    hdl = handlerMs,
    thr = threadCpuMs() - thr0,
    proc = procCpuMs() - proc0;

  // Stall after the measured window so the 200 ms backlog can't pollute the steady-state percentiles.
  Atomics.store(ctrl, STALL, 1);
  const s0 = performance.now();
  while (performance.now() - s0 < STALL_MS) {
    /* main is "blocked", e.g. by a sync JSON.parse of a big body */
  }
  stallEnd = now();
  Atomics.store(ctrl, STALL, 0);
  await sleep(TAIL_MS);
  Atomics.store(ctrl, STOP, 1);
  const d = await done; // A: 'done' is ordered after every batch on the same port
  finished = true;
  if (cfg.chan === 'B') drain();
  const us = (ms: number): number => (ms * 1000) / frames;
  return {
    chan: cfg.chan,
    receiver: cfg.receiver,
    n: cfg.n,
    fps: frames / secs,
    hdlUs: us(hdl),
    eluUs: us(elu.active),
    thrUs: us(thr),
    procUs: us(proc),
    elu: elu.utilization,
    p50: hist.getValueAtPercentile(50),
    p99: hist.getValueAtPercentile(99),
    p999: hist.getValueAtPercentile(99.9),
    max: hist.maxValue,
    stallProduced: d.stallProduced,
    stallRecvAfter,
    lost,
    reordered,
    recvVsProduced: recv - d.produced,
    catchUpMs: lastStallT - stallEnd,
    stallMaxLatMs: stallMaxLat,
    ringPeak: d.ringPeak,
    ringFullTicks: d.ringFullTicks,
    lateMaxUs: d.lateMaxUs,
    skewUs,
    sink: sinkX ^ (sinkN & 0xff),
  };
}

// ---------------------------------------------------------------- orchestrator
const f1 = (x: number, w: number): string => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2).padStart(w);
const s = (x: number | string, w: number): string => String(x).padStart(w);

function orchestrate(): void {
  const values = commandLine({
    usage: 'node dist/bench/handback-channel.js',
    purpose:
      'The pacer → socket-thread hand-back channel, by measurement: A (a transferred ArrayBuffer per tick) against B (a SharedArrayBuffer ring), every configuration in a fresh child process.',
    options: {
      chan: { type: 'string', default: 'A,B' },
      n: { type: 'string', default: '100,500,1000' },
      secs: { type: 'string', default: '5' },
      reps: { type: 'string', default: '2' },
      slots: { type: 'string', default: '8192' },
      receiver: { type: 'string', default: 'main' },
    },
    help: {
      chan: 'channels to measure: A, B',
      n: 'call counts',
      secs: 'seconds per configuration',
      reps: 'repetitions of each configuration',
      slots: 'ring slots for B (a power of two)',
      receiver: 'the receiving thread: main, worker (a thread of its own, as the I/O thread)',
    },
    numbers: ['n', 'secs', 'reps', 'slots'],
  });
  const chans = values.chan.split(',') as Cfg['chan'][];
  const ns = values.n.split(',').map(Number);
  const secs = Number(values.secs),
    reps = Number(values.reps),
    slots = Number(values.slots);
  const receivers = values.receiver.split(',') as Cfg['receiver'][];
  if (slots & (slots - 1)) throw new Error('--slots must be a power of two');
  const script = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  console.log(
    `payload ${wirePayload(0).length} B, tick ${TICK_MS} ms, ${secs} s measured + ${STALL_MS} ms stall, ring ${slots} slots`,
  );
  console.log(
    'recv   chan    N  rep   frames/s  hdl µs/f  ELU µs/f  thr µs/f proc µs/f   ELU%    p50µs    p99µs  p99.9µs    maxµs',
  );
  for (let rep = 1; rep <= reps; rep++)
    for (const receiver of receivers)
      for (const n of ns)
        for (const chan of chans) {
          const cfg: Cfg = { chan, n, secs, slots, receiver };
          const out = spawnSync(process.execPath, [script, '--child', JSON.stringify(cfg)], { encoding: 'utf8' });
          const line = out.stdout.trim().split('\n').pop() ?? '';
          if (out.status !== 0 || !line.startsWith('{')) {
            console.error(out.stderr);
            throw new Error(`child failed: ${chan} ${n}`);
          }
          const r = JSON.parse(line) as Result;
          results.push(r);
          console.log(
            `${s(receiver, 6)} ${s(chan, 4)} ${s(n, 5)} ${s(rep, 4)} ${f1(r.fps, 10)} ${f1(r.hdlUs, 9)} ${f1(r.eluUs, 9)} ${f1(r.thrUs, 9)}` +
              ` ${f1(r.procUs, 9)} ${f1(r.elu * 100, 6)} ${s(r.p50, 8)} ${s(r.p99, 8)} ${s(r.p999, 8)} ${s(r.max, 8)}`,
          );
        }
  console.log('\nstall (200 ms main busy-loop):');
  console.log(
    'recv   chan    N  produced-in-stall  recv-after  lost  reord  recv-prod  catch-up ms  max lat ms  ring peak  ring-full ticks  wkr late max µs  clk skew µs',
  );
  for (const r of results) {
    console.log(
      `${s(r.receiver, 6)} ${s(r.chan, 4)} ${s(r.n, 5)} ${s(r.stallProduced, 18)} ${s(r.stallRecvAfter, 11)} ${s(r.lost, 5)} ${s(r.reordered, 6)}` +
        ` ${s(r.recvVsProduced, 10)} ${f1(r.catchUpMs, 12)} ${f1(r.stallMaxLatMs, 11)} ${s(r.chan === 'B' ? `${r.ringPeak}/${slots}` : '-', 10)}` +
        ` ${s(r.chan === 'B' ? r.ringFullTicks : '-', 16)} ${s(r.lateMaxUs, 16)} ${f1(r.skewUs, 12)}`,
    );
  }
  console.log('\nmean over reps (B relative to A):');
  for (const receiver of receivers)
    for (const n of ns) {
      const m = (c: string, k: keyof Result): number => {
        const rs = results.filter((r) => r.chan === c && r.n === n && r.receiver === receiver);
        return rs.reduce((a, r) => a + (r[k] as number), 0) / rs.length;
      };
      const cmp = (k: keyof Result): string =>
        `${f1(m('A', k), 6)} vs ${f1(m('B', k), 6)} (${(m('B', k) / m('A', k)).toFixed(2)}x)`;
      console.log(
        `${receiver} N=${s(n, 4)}  ELU µs/f A ${cmp('eluUs')}  thr µs/f ${cmp('thrUs')}  proc µs/f ${cmp('procUs')}  p99 µs ${cmp('p99')}`,
      );
    }
}

if (!isMainThread && (workerData as { role?: string }).role === 'receiver') {
  // The receiver on a thread of its own, as ptime's I/O thread is: it starts the producer itself.
  const r = await runOne((workerData as { cfg: Cfg }).cfg);
  parentPort!.postMessage(r);
} else if (!isMainThread) {
  const wd = workerData as { cfg: Cfg; ctrlSab: SharedArrayBuffer; ringSab: SharedArrayBuffer | null };
  pacer(wd.cfg, new Int32Array(wd.ctrlSab), wd.ringSab);
} else if (process.argv[2] === '--child') {
  const cfg = JSON.parse(process.argv[3]!) as Cfg;
  const r =
    cfg.receiver === 'worker'
      ? await new Promise<Result>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { role: 'receiver', cfg } });
          w.once('message', (m: Result) => resolve(m));
          w.once('error', reject);
        })
      : await runOne(cfg);
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
} else {
  orchestrate();
}
