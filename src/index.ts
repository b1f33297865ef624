export { createEngine, Engine, type EngineEvents, type EngineStats, type Rejection } from './engine/engine.js';
export type { EngineOptions } from './engine/engine-options.js';
export {
  Call,
  type CallState,
  type CallStats,
  type CallEvents,
  type InboundMedia,
  type InboundPcm16,
  type HeardReport,
  type Interruption,
  type UtteranceState,
  type RecordedInfo,
  type Playback,
} from './engine/call.js';
export { INBOUND_PCM_RATES, type InboundPcmRate } from './engine/pcm-receiver.js';
export type { CodecPoolFigures } from './engine/codec-pool.js';
export type { MarkResult, MarkStatus } from './engine/mark-book.js';
export type { EngineFigures } from './engine/figures-reporter.js';
export type { PacerStats } from './pacer/pacer-layout.js';
export type { PacerRestart } from './pacer/pacer-host.js';
export { PtimeError, ProtocolRejection, ErrorCodes, type ErrorCode } from './errors.js';
export { FRAME_BYTES, FRAME_MS, MULAW_SILENCE, DEFAULT_QUEUE_FRAMES, MAX_QUEUE_FRAMES } from './ring/lane-layout.js';
export {
  CARRIER_NAMES,
  type CarrierAdapter,
  type CarrierName,
  type InboundEvent,
  type StartInfo,
} from './protocol/carrier-adapter.js';
export { SignalWireAdapter, TwilioAdapter } from './protocol/twilio-adapter.js';
export { TelnyxAdapter } from './protocol/telnyx-adapter.js';
export { PlivoAdapter } from './protocol/plivo-adapter.js';
export { ExotelAdapter } from './protocol/exotel-adapter.js';
export { VonageAdapter } from './protocol/vonage-adapter.js';
export { AsteriskAdapter } from './protocol/asterisk-adapter.js';
export {
  audioFormat,
  MULAW_8K,
  WIRE_ENCODINGS,
  WIRE_RATES,
  type AudioFormat,
  type WireEncoding,
  type WireRate,
} from './codec/audio-format.js';
export {
  mulawEncode,
  mulawDecode,
  alawEncode,
  alawDecode,
  Resampler,
  resample,
  pcm16ToMulaw8k,
  mulaw8kToPcm16,
  SUPPORTED_RATES,
  toPcm16,
  type ResamplerState,
  type SampleRate,
} from './codec/index.js';
export * as twiml from './twiml.js';
export type { SpeakOptions, SpeakResult, SpeechChunk, SpeechSource } from './engine/speaker.js';
