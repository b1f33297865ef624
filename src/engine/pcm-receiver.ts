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
 */
export class PcmReceiver {
  /** Twilio's two tracks. Any other name the peer writes shares `inbound`'s stream: one state per name would let a peer grow memory at will. */
  private inbound: Resampler | null = null;
  private outbound: Resampler | null = null;

  constructor(
    readonly rate: InboundPcmRate,
    private readonly format: AudioFormat,
  ) {}

  convert(frame: Uint8Array, track: string): Int16Array {
    const pcm = decodeWire(frame, this.format);
    if (this.rate === this.format.sampleRate) return pcm;
    const stream = track === 'outbound' ? (this.outbound ??= this.newStream()) : (this.inbound ??= this.newStream());
    return stream.process(pcm);
  }

  private newStream(): Resampler {
    return new Resampler(this.format.sampleRate, this.rate);
  }
}
