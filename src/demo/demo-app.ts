import type { Call } from '../engine/call.js';
import type { Engine } from '../engine/engine.js';
import { SILENCE_FRAME, TONE_FRAME } from './demo-frames.js';

export const DEMO_MODES = ['echo', 'silence', 'tone'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

/**
 * A producer faster than real time, as a TTS would be: it fills the queue to the high-water mark
 * and tops it up on every 'drain', so the queue never overflows and the pacer never runs dry.
 */
function produce(call: Call, frame: Uint8Array): void {
  const fill = (): void => {
    while (!call.isClosed && call.send(frame)) {
      // send() returns false at the high-water mark
    }
  };
  call.on('drain', fill);
  fill();
}

/**
 * The demo application behind `ptime serve`, chosen per call by the TwiML
 * `<Parameter name="mode">` (start.customParameters.mode): echo (default), silence or tone.
 * In every mode a DTMF digit D clears the queue and then sends mark "dtmf-D".
 */
export function attachDemoApp(engine: Engine): void {
  engine.on('call', (call) => {
    const requested = call.customParameters['mode'] ?? 'echo';
    const mode: DemoMode = (DEMO_MODES as readonly string[]).includes(requested) ? (requested as DemoMode) : 'echo';
    if (mode !== requested) call.logger.warn({ requested, modes: DEMO_MODES }, 'unknown demo mode; using echo');
    if (mode === 'echo') call.on('media', (m) => call.send(m.payload));
    else produce(call, mode === 'tone' ? TONE_FRAME : SILENCE_FRAME);
    call.on('dtmf', ({ digit }) => {
      call.clear();
      void call.mark(`dtmf-${digit}`);
    });
  });
}
