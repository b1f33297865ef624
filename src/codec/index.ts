export { mulawEncode, mulawDecode, alawEncode, alawDecode } from './g711.js';
export { mulawEncodeSample, mulawDecodeSample } from './mulaw.js';
export { Resampler, resample, type ResamplerState } from './resampler.js';
export { SUPPORTED_RATES, TELEPHONY_RATE, type SampleRate } from './sample-rates.js';
export { pcm16ToMulaw8k, mulaw8kToPcm16 } from './telephony.js';
export { MAX_CODEC_SAMPLES, toPcm16 } from './audio-input.js';
export { STOPBAND_DB } from './polyphase-filter.js';
export {
  type CodecJob,
  type CodecResult,
  type CodecReply,
  type CodecErrorResult,
  type Pcm16ToMulawJob,
  type MulawToPcm16Job,
  type MulawResult,
  type Pcm16Result,
  transferListOf,
  unwrapCodecReply,
} from './codec-job.js';
export { runCodecJob } from './run-codec-job.js';
