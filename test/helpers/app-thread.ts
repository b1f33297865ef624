import { performance } from 'node:perf_hooks';
import type { Call } from '../../src/index.js';

/**
 * A stall of the application's thread, as a big synchronous JSON parse would cause. Returns its
 * [start, end] in epoch ms.
 */
export function blockMain(ms: number): [number, number] {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    // a deliberate stall
  }
  return [performance.timeOrigin + t0, performance.timeOrigin + performance.now()];
}

/** The engine's next call. */
export function nextCall(engine: { once(e: 'call', l: (c: Call) => void): unknown }): Promise<Call> {
  return new Promise((resolve) => engine.once('call', resolve));
}
