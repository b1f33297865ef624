import { ErrorCodes, PtimeError } from '../errors.js';

export interface StallSpec {
  blockMs: number;
  everyMs: number;
}

/** Parse `50@500`: block the main thread 50 ms every 500 ms. */
export function parseStall(spec: string): StallSpec {
  const m = /^(\d+)@(\d+)$/.exec(spec);
  const blockMs = m ? Number(m[1]) : Number.NaN;
  const everyMs = m ? Number(m[2]) : Number.NaN;
  if (!m || blockMs < 1 || everyMs <= blockMs || everyMs > 3_600_000) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `--inject-stall takes BLOCK_MS@EVERY_MS with 0 < BLOCK < EVERY (got ${JSON.stringify(spec)})`,
    );
  }
  return { blockMs, everyMs };
}

/**
 * A diagnostic: busy-block the main thread periodically, as a heavy application would (a big JSON
 * parse, a sync crypto call, a GC pause), to show what that does to the audio. Returns a stop
 * function. Never enable it in production.
 */
export function injectStalls(spec: StallSpec, onStall?: (startMs: number) => void): () => void {
  const timer = setInterval(() => {
    const start = performance.now();
    onStall?.(start);
    while (performance.now() - start < spec.blockMs) {
      // blocking on purpose
    }
  }, spec.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
