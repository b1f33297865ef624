/**
 * `ptime serve` with a main-thread baseline pacer swapped in, for the benchmark:
 *   node dist/bench/bench-serve.js --baseline interval|timeout|absolute [ptime serve flags]
 * Without --baseline it is exactly `ptime serve`.
 */
import { serve } from '../src/cli/serve.js';
import { BASELINES, MainThreadPacer, type BaselineName } from './baselines/main-thread-pacer.js';

const argv = process.argv.slice(2);
const at = argv.indexOf('--baseline');
let name: BaselineName | null = null;
if (at >= 0) {
  const value = argv[at + 1];
  if (!(BASELINES as readonly string[]).includes(value ?? '')) {
    process.stderr.write(`bench-serve: --baseline must be one of ${BASELINES.join(', ')}\n`);
    process.exit(2);
  }
  name = value as BaselineName;
  argv.splice(at, 2);
}
// --churn MBps: allocation churn on the main thread, for the GC-pressure scenario.
const churnAt = argv.indexOf('--churn');
if (churnAt >= 0) {
  const mbps = Number(argv[churnAt + 1]);
  argv.splice(churnAt, 2);
  startChurn(mbps);
}
await serve(argv, name ? (_options, sinks) => new MainThreadPacer(name, sinks) : undefined, name ?? 'ptime');

function startChurn(mbps: number): void {
  // Short-lived objects of mixed sizes every 10 ms, with a few kept a while so some survive the
  // young generation, which is what makes real GC pauses.
  const keep: unknown[] = [];
  const perTick = (mbps * 1024 * 1024) / 100;
  setInterval(() => {
    let bytes = 0;
    while (bytes < perTick) {
      const o = { a: new Array(64).fill(bytes), s: 'x'.repeat(256) + String(bytes) };
      bytes += 64 * 8 + 300;
      if (Math.random() < 0.01) keep.push(o);
    }
    if (keep.length > 20_000) keep.splice(0, 10_000);
  }, 10).unref();
}
