import { decodeWire, type AudioFormat } from '../codec/audio-format.js';
import { Resampler } from '../codec/resampler.js';
import { ErrorCodes, PtimeError } from '../errors.js';

/** Rates inbound audio can be delivered at: what STT engines take. */
export const INBOUND_PCM_RATES = [8000, 16000] as const;
export type InboundPcmRate = (typeof INBOUND_PCM_RATES)[number];

export function checkInboundRate(rate: unknown): InboundPcmRate {
  if (!(INBOUND_PCM_RATES as readonly unknown[]).includes(rate)) {
    throw new PtimeError(
      ErrorCodes.SAMPLE_RATE,
      `inbound PCM16 rate must be one of ${INBOUND_PCM_RATES.join(', ')} Hz (got ${String(rate)})`,
    );
  }
  return rate as InboundPcmRate;
}

/**
 * Inbound wire audio (the call's format) → PCM16 at an STT rate, one resampler stream per track so a call carrying both
 * tracks never mixes their filter state. Each 20 ms frame is tiny (160 samples), so this always
 * runs inline: a pool round trip would cost more than the work.
 *
 * Every result is exactly 20 ms at the output rate. A resampler holds back a few samples (its
 * filter delay, ~2.75 ms), so its output per frame is not a whole 20 ms; the remainder is carried
 * to the next frame instead of shortening the first, and the stream's first frame yields nothing.
 */
export class PcmReceiver {
  /** Twilio's two tracks. Any other name the peer writes shares `inbound`'s stream: one state per name would let a peer grow memory at will. */
  private inbound: Track | null = null;
  private outbound: Track | null = null;
  private readonly frameSamples: number;

  constructor(
    readonly rate: InboundPcmRate,
    private readonly format: AudioFormat,
  ) {
    this.frameSamples = rate / 50;
  }

  /** 20 ms of PCM16 at `rate`, or null while the stream's filter delay is still being filled. */
  convert(frame: Uint8Array, track: string): Int16Array | null {
    const pcm = decodeWire(frame, this.format);
    if (this.rate === this.format.sampleRate) return pcm;
    const t = track === 'outbound' ? (this.outbound ??= this.newTrack()) : (this.inbound ??= this.newTrack());
    const out = t.resampler.process(pcm);
    const have = t.fill + out.length;
    const n = this.frameSamples;
    if (have < n) {
      t.carry.set(out, t.fill);
      t.fill = have;
      return null;
    }
    const result = new Int16Array(n);
    result.set(t.carry.subarray(0, t.fill));
    result.set(out.subarray(0, n - t.fill), t.fill);
    const rest = out.subarray(n - t.fill);
    t.carry.set(rest);
    t.fill = rest.length;
    return result;
  }

  private newTrack(): Track {
    // Room for what one frame can leave over: the output of a frame is at most about 20 ms.
    return {
      resampler: new Resampler(this.format.sampleRate, this.rate),
      carry: new Int16Array(this.frameSamples * 2),
      fill: 0,
    };
  }
}

interface Track {
  readonly resampler: Resampler;
  /** Output samples not yet delivered (less than 20 ms). */
  readonly carry: Int16Array;
  fill: number;
}
