import type { LoadOptions } from '../../src/loadtest/load-generator.js';

/** A live progress line on a TTY; nothing at all in CI or when piped. */
export function progressLine(label: string, totalCalls: number): LoadOptions['onProgress'] {
  if (!process.stdout.isTTY || process.env['CI']) return undefined;
  return (p) => {
    process.stdout.write(
      `\r${label} ${p.elapsedS.toFixed(0).padStart(3)} s  calls up ${String(p.calls).padStart(4)}/${totalCalls}  ` +
        `frames/s ${p.framesPerSec.toFixed(0).padStart(6)}  interval p99 ${p.p99Ms.toFixed(2)} ms  late@0 ${p.latePct.toFixed(3)} %   `,
    );
  };
}

export function endProgressLine(): void {
  if (process.stdout.isTTY && !process.env['CI']) process.stdout.write('\n');
}
