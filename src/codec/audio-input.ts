import { endianness } from 'node:os';
import { ErrorCodes, PtimeError } from '../errors.js';

/**
 * The most samples (or bytes) one codec call accepts: 2^26 PCM16 samples is 23 minutes at 48 kHz
 * (128 MiB). A bigger buffer is almost certainly a bug upstream, and refusing it with a coded
 * error beats an allocation failure in the middle of a call.
 */
export const MAX_CODEC_SAMPLES = 1 << 26;

const LITTLE_ENDIAN = endianness() === 'LE';

function tooBig(n: number, what: string): PtimeError {
  return new PtimeError(
    ErrorCodes.INVALID_AUDIO,
    `${what} of ${n} exceeds the per-call cap of ${MAX_CODEC_SAMPLES}; split it into chunks`,
  );
}

/** Guards an API that takes PCM16 samples: an Int16Array, nothing else. */
export function checkPcm16(input: unknown, what = 'PCM16 input'): Int16Array {
  if (!(input instanceof Int16Array)) {
    throw new PtimeError(ErrorCodes.INVALID_AUDIO, `${what} must be an Int16Array, got ${describe(input)}`);
  }
  if (input.length > MAX_CODEC_SAMPLES) throw tooBig(input.length, `${what} length`);
  return input;
}

/** Guards an API that takes G.711 bytes: a Uint8Array (a Buffer is one). */
export function checkBytes(input: unknown, what = 'G.711 input'): Uint8Array {
  if (!(input instanceof Uint8Array)) {
    throw new PtimeError(ErrorCodes.INVALID_AUDIO, `${what} must be a Uint8Array, got ${describe(input)}`);
  }
  if (input.length > MAX_CODEC_SAMPLES) throw tooBig(input.length, `${what} length`);
  return input;
}

/**
 * PCM16 as samples, or as little-endian bytes (what TTS APIs return, e.g. a Buffer of s16le).
 * Bytes become a zero-copy view when aligned on a little-endian host, a copy otherwise. An odd
 * byte length is refused: half a sample means the caller lost a byte, and guessing would shift
 * every later sample by one byte (loud noise).
 */
export function toPcm16(input: Int16Array | Uint8Array | Float32Array, what = 'PCM16 input'): Int16Array {
  if (input instanceof Int16Array) return checkPcm16(input, what);
  if (input instanceof Float32Array) return floatToPcm16(input, what);
  if (!(input instanceof Uint8Array)) {
    throw new PtimeError(
      ErrorCodes.INVALID_AUDIO,
      `${what} must be an Int16Array, s16le bytes (Uint8Array/Buffer) or a Float32Array, got ${describe(input)}`,
    );
  }
  if ((input.byteLength & 1) !== 0) {
    throw new PtimeError(
      ErrorCodes.INVALID_AUDIO,
      `${what} has an odd byte length (${input.byteLength}); PCM16 needs 2 bytes per sample`,
    );
  }
  const n = input.byteLength >> 1;
  if (n > MAX_CODEC_SAMPLES) throw tooBig(n, `${what} length`);
  if (LITTLE_ENDIAN && (input.byteOffset & 1) === 0) return new Int16Array(input.buffer, input.byteOffset, n);
  const out = new Int16Array(n);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i << 1, true);
  return out;
}

/**
 * Float samples in [-1, 1] (what Web Audio and several TTS SDKs emit) → PCM16. A NaN, an infinity
 * or a sample outside [-1, 1] is refused rather than clipped: it means the producer is broken
 * (wrong scale, uninitialised memory), and clipping would turn that into loud distortion on a call.
 */
function floatToPcm16(input: Float32Array, what: string): Int16Array {
  const n = input.length;
  if (n > MAX_CODEC_SAMPLES) throw tooBig(n, `${what} length`);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const x = input[i]!;
    if (!(x >= -1 && x <= 1)) {
      throw new PtimeError(
        ErrorCodes.INVALID_AUDIO,
        `${what} sample ${i} is ${String(x)}; float samples must be finite and within [-1, 1]`,
      );
    }
    // ×32768 makes v/32768 round-trip exactly; only +1.0 itself needs the clamp.
    const v = Math.round(x * 32768);
    out[i] = v > 32767 ? 32767 : v;
  }
  return out;
}

/** What a value is, for an error message: its constructor's name, or its type. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return v.constructor?.name ?? 'object';
}
