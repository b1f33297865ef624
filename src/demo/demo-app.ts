import { encodeWire, formatName, type AudioFormat } from '../codec/audio-format.js';
import { resample } from '../codec/resampler.js';
import type { Call } from '../engine/call.js';
import type { Engine } from '../engine/engine.js';
import { silenceFrame, toneFrame } from './demo-frames.js';

export const DEMO_MODES = ['echo', 'silence', 'tone', 'file'] as const;
export type DemoMode = (typeof DEMO_MODES)[number];

export interface DemoOptions {
  /** The --audio-file's samples (mode "file"), converted once per wire format the first time a call needs it. */
  file?: { samples: Int16Array; sampleRate: number };
  /** The file's name: mode "file" plays it as one utterance of that name. */
  fileName?: string;
}

/** Frames handed to send() per step in file mode: 10, so a fill costs few calls. */
const FILE_STEP_FRAMES = 10;

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
function looped(audio: Uint8Array, format: AudioFormat): () => Uint8Array {
  const step = FILE_STEP_FRAMES * format.frameBytes;
  let at = 0;
  return () => {
    const end = Math.min(at + step, audio.length);
    const chunk = audio.subarray(at, end);
    at = end === audio.length ? 0 : end;
    return chunk;
  };
}

/**
 * The demo application behind `ptime serve`, chosen per call by the parameter `mode`
 * (call.customParameters.mode, which each carrier fills its own way: see README's carrier
 * table): echo (default), silence, tone, or file (the --audio-file, looped). Every mode plays in
 * the call's wire format. In every mode a DTMF digit D clears the queue and then sends mark
 * "dtmf-D".
 */
export function attachDemoApp(engine: Engine, options: DemoOptions = {}): void {
  const fileByFormat = new Map<string, Uint8Array>();
  const fileIn = (format: AudioFormat): Uint8Array | undefined => {
    const src = options.file;
    if (src === undefined) return undefined;
    let wire = fileByFormat.get(formatName(format));
    if (wire === undefined) {
      wire = encodeWire(
        src.sampleRate === format.sampleRate ? src.samples : resample(src.samples, src.sampleRate, format.sampleRate),
        format,
      );
      fileByFormat.set(formatName(format), wire);
    }
    return wire;
  };
  engine.on('call', (call) => {
    const requested = call.customParameters['mode'] ?? 'echo';
    const mode: DemoMode = (DEMO_MODES as readonly string[]).includes(requested) ? (requested as DemoMode) : 'echo';
    if (mode !== requested) call.logger.warn({ requested, modes: DEMO_MODES }, 'unknown demo mode; using echo');
    const file = mode === 'file' ? fileIn(call.format) : undefined;
    if (mode === 'tone') call.beginUtterance('tone');
    if (mode === 'file' && file !== undefined) {
      call.beginUtterance(options.fileName ?? 'file');
      produce(call, looped(file, call.format));
    } else if (mode === 'echo' || mode === 'file') {
      if (mode === 'file') call.logger.warn('mode "file" needs ptime serve --audio-file; using echo');
      call.on('media', (m) => {
        if (call.accepting) call.send(m.payload); // not while the server drains for shutdown
      });
    } else {
      const frame = mode === 'tone' ? toneFrame(call.format) : silenceFrame(call.format);
      produce(call, () => frame);
    }
    call.on('dtmf', ({ digit }) => {
      // What the caller heard of what was playing: the figures an agent truncates its transcript by.
      const cut = call.clear()[0];
      const heard = cut ? call.heard(cut.utterance) : null;
      call.logger.info(
        {
          utterance: heard?.utterance ?? null,
          heardMs: heard?.heardMs ?? null,
          sentMs: heard?.sentMs ?? null,
          confirmedMs: heard?.confirmedMs ?? null,
        },
        'barge-in',
      );
      if (call.accepting) void call.mark(`dtmf-${digit}`);
    });
  });
}
