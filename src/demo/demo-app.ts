import type { Call } from '../engine/call.js';
import type { Engine } from '../engine/engine.js';
import { FRAME_BYTES } from '../ring/lane-layout.js';
import { SILENCE_FRAME, TONE_FRAME } from './demo-frames.js';

export const DEMO_MODES = ['echo', 'silence', 'tone', 'file'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

export interface DemoOptions {
  /** The --audio-file, already converted to 8 kHz mu-law once at startup (mode "file"). */
  fileMulaw?: Uint8Array;
}

/** Bytes handed to send() per step in file mode: 10 frames, so a fill costs few calls. */
const FILE_STEP = 10 * FRAME_BYTES;

/**
 * A producer faster than real time, as a TTS would be: it fills the queue to the high-water mark
 * and tops it up on every 'drain', so the queue never overflows and the pacer never runs dry.
 */
function produce(call: Call, next: () => Uint8Array): void {
  const fill = (): void => {
    while (call.accepting && call.send(next())) {
      // send() returns false at the high-water mark
    }
  };
  call.on('drain', fill);
  fill();
}

/** The file's audio, looped: each call starts at the beginning and wraps without a gap. */
function looped(audio: Uint8Array): () => Uint8Array {
  let at = 0;
  return () => {
    const end = Math.min(at + FILE_STEP, audio.length);
    const chunk = audio.subarray(at, end);
    at = end === audio.length ? 0 : end;
    return chunk;
  };
}

/**
 * The demo application behind `ptime serve`, chosen per call by the TwiML
 * `<Parameter name="mode">` (start.customParameters.mode): echo (default), silence, tone, or file
 * (the --audio-file, looped). In every mode a DTMF digit D clears the queue and then sends mark
 * "dtmf-D".
 */
export function attachDemoApp(engine: Engine, options: DemoOptions = {}): void {
  engine.on('call', (call) => {
    const requested = call.customParameters['mode'] ?? 'echo';
    const mode: DemoMode = (DEMO_MODES as readonly string[]).includes(requested) ? (requested as DemoMode) : 'echo';
    if (mode !== requested) call.logger.warn({ requested, modes: DEMO_MODES }, 'unknown demo mode; using echo');
    const file = options.fileMulaw;
    if (mode === 'file' && file !== undefined) produce(call, looped(file));
    else if (mode === 'echo' || mode === 'file') {
      if (mode === 'file') call.logger.warn('mode "file" needs ptime serve --audio-file; using echo');
      call.on('media', (m) => {
        if (call.accepting) call.send(m.payload); // not while the server drains for shutdown
      });
    } else {
      const frame = mode === 'tone' ? TONE_FRAME : SILENCE_FRAME;
      produce(call, () => frame);
    }
    call.on('dtmf', ({ digit }) => {
      call.clear();
      if (call.accepting) void call.mark(`dtmf-${digit}`);
    });
  });
}
