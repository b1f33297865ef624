import { ErrorCodes, PtimeError } from '../errors.js';
import { checkBytes, checkPcm16 } from './audio-input.js';
import { alawDecode, alawEncode, mulawDecode, mulawEncode } from './g711.js';

/** How a carrier carries audio on the wire: G.711 (one byte per sample) or 16-bit little-endian PCM. */
export const WIRE_ENCODINGS = ['mulaw', 'alaw', 'l16'] as const;
export type WireEncoding = (typeof WIRE_ENCODINGS)[number];

/** Rates a call's wire audio can have. G.711 is 8 kHz only; L16 any of these. */
export const WIRE_RATES = [8000, 16000, 24000] as const;
export type WireRate = (typeof WIRE_RATES)[number];

/** One call's wire audio. Every frame is 20 ms: `frameBytes` bytes. */
export interface AudioFormat {
  readonly encoding: WireEncoding;
  readonly sampleRate: WireRate;
  /** Bytes of one 20 ms frame: 160 (G.711), 320/640/960 (L16 at 8/16/24 kHz). */
  readonly frameBytes: number;
  /** The byte that fills a frame with silence (mu-law 0xFF, A-law 0xD5, L16 0x00). */
  readonly silence: number;
}

/** The largest frame of any supported format (L16 at 24 kHz). */
export const MAX_FRAME_BYTES = 960;

const SILENCE: Record<WireEncoding, number> = { mulaw: 0xff, alaw: 0xd5, l16: 0x00 };

/** A validated format; throws PTIME_ERR_MEDIA_FORMAT naming what is supported. */
export function audioFormat(encoding: WireEncoding, sampleRate: number): AudioFormat {
  if (!(WIRE_RATES as readonly number[]).includes(sampleRate) || (encoding !== 'l16' && sampleRate !== 8000)) {
    throw new PtimeError(
      ErrorCodes.MEDIA_FORMAT,
      `unsupported wire format ${encoding} at ${String(sampleRate)} Hz; supported: mulaw and alaw at 8000 Hz, l16 at ${WIRE_RATES.join(', ')} Hz`,
    );
  }
  const bytesPerSample = encoding === 'l16' ? 2 : 1;
  return Object.freeze({
    encoding,
    sampleRate: sampleRate as WireRate,
    frameBytes: (sampleRate / 50) * bytesPerSample,
    silence: SILENCE[encoding],
  });
}

/** Twilio's format, and every G.711 carrier's default. */
export const MULAW_8K = audioFormat('mulaw', 8000);

export function formatName(f: AudioFormat): string {
  return `${f.encoding}/${f.sampleRate}`;
}

/** PCM16 at the format's rate → wire bytes. */
export function encodeWire(pcm: Int16Array, format: AudioFormat): Uint8Array {
  if (format.encoding === 'mulaw') return mulawEncode(pcm);
  if (format.encoding === 'alaw') return alawEncode(pcm);
  const samples = checkPcm16(pcm);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return out;
}

/** Wire bytes → PCM16 at the format's rate. An odd L16 byte count is refused (half a sample). */
export function decodeWire(bytes: Uint8Array, format: AudioFormat): Int16Array {
  if (format.encoding === 'mulaw') return mulawDecode(bytes);
  if (format.encoding === 'alaw') return alawDecode(bytes);
  checkBytes(bytes, 'L16 input');
  if ((bytes.length & 1) !== 0)
    throw new PtimeError(
      ErrorCodes.INVALID_AUDIO,
      `L16 input has an odd byte length (${bytes.length}); 2 bytes per sample`,
    );
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}
