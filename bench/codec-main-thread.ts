/**
 * Main-thread time the codec pool saves when many calls speak TTS at once.
 *
 *   npm run build && node dist/bench/codec-main-thread.js [--calls 500] [--secs 5] [--rate 24000] [--chunks 20,200,1000]
 *
 * Each of N calls receives one second of PCM16 TTS per second of wall time, in chunks of C ms,
 * spread evenly over the second (as N independent TTS streams would arrive). Every chunk goes
 * through the same code as `call.sendPcm16` (PcmSender + OutboundOrder + CodecPool), into a sink
 * that only counts bytes, so what differs between rows is where the resampling runs:
 *   inline — codecPoolMinMs = ∞, everything on the main thread (the baseline);
 *   pool   — codecPoolMinMs = 0, every chunk on the piscina pool.
 * Main-thread figures: event-loop utilisation (share of wall time the loop was busy), main
 * busy ms per second, and event-loop delay p99/max (how long other calls' sends would wait).
 * Both run in this process, one after the other, in the same run; the ratio is pool / inline.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { MULAW_8K } from '../src/codec/audio-format.js';
import { CodecPool } from '../src/engine/codec-pool.js';
import { OutboundOrder } from '../src/engine/outbound-order.js';
import { PcmSender } from '../src/engine/pcm-sender.js';
import { machineInfo } from '../src/loadtest/machine-info.js';
import { seeded } from '../test/helpers/seeded.js';
import { commandLine } from './lib/command-line.js';

const values = commandLine({
  usage: 'node dist/bench/codec-main-thread.js',
  purpose:
    'Main-thread time saved by converting sendPcm16 audio on the codec pool rather than inline, per chunk size, at N calls.',
  options: {
    calls: { type: 'string', default: '500' },
    secs: { type: 'string', default: '5' },
    rate: { type: 'string', default: '24000' },
    chunks: { type: 'string', default: '20,200,1000' },
  },
  help: {
    calls: 'simultaneous calls',
    secs: 'seconds per chunk size',
    rate: 'the PCM sample rate sent, Hz',
    chunks: 'chunk sizes to try, ms',
  },
  numbers: ['calls', 'secs', 'rate', 'chunks'],
});
const CALLS = Number(values.calls);
const SECS = Number(values.secs);
const RATE = Number(values.rate);
const CHUNKS = values.chunks.split(',').map(Number);
const TICK_MS = 10;

interface Row {
  mode: 'inline' | 'pool';
  chunkMs: number;
  elu: number;
  busyMsPerSec: number;
  delayP99: number;
  delayMax: number;
  bytesOut: number;
  expectedBytes: number;
}

function chunkOf(samples: number, seed: number): Int16Array {
  const rnd = seeded(seed);
  const x = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    x[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / RATE) + 2000 * (rnd() - 0.5));
  return x;
}

async function run(mode: Row['mode'], chunkMs: number): Promise<Row> {
  const logger = pino({ level: 'silent' });
  const pool = new CodecPool(Math.max(1, availableParallelism() - 1), logger);
  const codec = { poolMinMs: mode === 'inline' ? Number.POSITIVE_INFINITY : 0, run: pool.run.bind(pool) };
  let bytesOut = 0;
  const senders = Array.from(
    { length: CALLS },
    () =>
      new PcmSender(
        new OutboundOrder(),
        (mu) => (bytesOut += mu.length),
        codec,
        logger,
        () => undefined,
        MULAW_8K,
      ),
  );
  const chunk = chunkOf(Math.round((RATE * chunkMs) / 1000), chunkMs);
  const perCall = Math.round(1000 / chunkMs) * SECS; // chunks per call in the run

  // Warm-up outside the measurement (JIT, filter design, pool threads), on streams then reset.
  for (let i = 0; i < 20; i++) senders[i]!.send(chunk, RATE);
  await new Promise((r) => setTimeout(r, 300));
  for (const s of senders) s.reset();
  bytesOut = 0;

  // Call k's j-th chunk is due at (j + k/CALLS) · chunkMs: an even spread across each chunk period.
  const total = CALLS * perCall;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / chunkMs) * CALLS));
      for (; issued < due; issued++) senders[issued % CALLS]!.send(chunk, RATE);
      if (issued < total) setTimeout(tick, TICK_MS);
      else resolve();
    };
    tick();
  });
  for (const s of senders) s.flushTail(); // each call's stream ends: its held-back tail goes out too
  const expectedBytes = CALLS * Math.ceil((perCall * chunk.length * 8000) / RATE);
  const deadline = performance.now() + 30_000;
  while (bytesOut < expectedBytes && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  const wall = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  histogram.disable();
  await pool.destroy();
  return {
    mode,
    chunkMs,
    elu: elu.utilization,
    busyMsPerSec: (elu.active / wall) * 1000,
    delayP99: histogram.percentile(99) / 1e6,
    delayMax: histogram.max / 1e6,
    bytesOut,
    expectedBytes,
  };
}

const f = (x: number, d = 1): string => x.toFixed(d);

async function main(): Promise<void> {
  const m = machineInfo();
  console.log(`# codec main-thread time — ${m.cpu} × ${m.cores} cores, Node ${m.node}, ${m.when}\n`);
  console.log(
    `${CALLS} calls each sending 1 s of ${RATE} Hz PCM16 per second for ${SECS} s, pool of ${Math.max(1, availableParallelism() - 1)} thread(s).`,
  );
  console.log(
    `Command: \`node dist/bench/codec-main-thread.js --calls ${CALLS} --secs ${SECS} --rate ${RATE} --chunks ${CHUNKS.join(',')}\`\n`,
  );
  console.log(
    'chunk | mode | main busy ms/s | loop util % | loop delay p99 / max ms | audio out (of expected) | pool / inline busy',
  );
  console.log('---:|---|---:|---:|---|---|---:');
  for (const chunkMs of CHUNKS) {
    const inline = await run('inline', chunkMs);
    const pool = await run('pool', chunkMs);
    for (const r of [inline, pool]) {
      const ratio = r.mode === 'pool' ? f(r.busyMsPerSec / inline.busyMsPerSec, 3) : '1.000';
      console.log(
        `${chunkMs} ms | ${r.mode} | ${f(r.busyMsPerSec)} | ${f(r.elu * 100)} | ${f(r.delayP99)} / ${f(r.delayMax)} | ${f((r.bytesOut / r.expectedBytes) * 100)} % | ${ratio}`,
      );
    }
    const saved = inline.busyMsPerSec - pool.busyMsPerSec;
    console.log(
      `${chunkMs} ms | **saved** | ${f(saved)} ms/s = ${f(saved / 10)} % of a core (${f((saved * 1000) / CALLS, 0)} µs per call-second of TTS) | | | |`,
    );
  }
}

await main();
