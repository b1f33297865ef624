import type { AudioFormat } from '../codec/audio-format.js';

/**
 * What the engine needs from a carrier protocol: each carrier's dialect (names, casing, framing)
 * stays behind this. Nothing here touches a socket or assumes the main thread.
 */

/** The carriers ptime speaks (src/protocol/carriers.ts maps each to its adapter). */
export const CARRIER_NAMES = ['twilio', 'signalwire', 'telnyx', 'plivo', 'exotel', 'vonage', 'asterisk'] as const;
export type CarrierName = (typeof CARRIER_NAMES)[number];

/** A stream's start in one shape for every carrier; `raw` is the carrier's own start message. */
export interface StartInfo {
  carrier: CarrierName;
  /**
   * The carrier's id for this stream: Twilio/SignalWire streamSid, Telnyx stream_id, Plivo
   * streamId, Exotel stream_sid, Asterisk connection_id; Vonage names none, so ptime makes one.
   */
  streamSid: string;
  /** The account, where the carrier sends one on the socket ('' otherwise). */
  accountSid: string;
  /** The call: callSid, call_control_id, callId, call_sid, Asterisk's channel_id ('' for Vonage). */
  callSid: string;
  tracks: string[];
  /** The app's parameters, from wherever the carrier puts them (see README's carrier table). */
  customParameters: Record<string, string>;
  raw: Record<string, unknown>;
  /** The stream's wire audio, both ways. */
  format: AudioFormat;
}

export interface InboundMedia {
  /** One 20 ms frame in the call's wire format (`call.format`). */
  payload: Buffer;
  track: string;
  chunk: number;
  timestamp: number;
}

/**
 * An inbound event. `streamSid` '' means the carrier does not name the stream on this event (Plivo's
 * DTMF may not): it is taken as the socket's own stream.
 */
export type InboundEvent =
  | { event: 'connected'; protocol: string; version: string }
  | { event: 'start'; streamSid: string; start: StartInfo }
  /** `seq`: the media frame's number in the carrier's order, where it may deliver media out of order. */
  | {
      event: 'media';
      streamSid: string;
      track: string;
      chunk: number;
      timestamp: number;
      payload: Buffer;
      seq?: number;
    }
  | { event: 'dtmf'; streamSid: string; track: string; digit: string }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'stop'; streamSid: string; accountSid: string; callSid: string }
  /** A carrier's acknowledgement that needs no action (Plivo's clearedAudio). */
  | { event: 'ack'; what: string }
  /** Carrier flow control (Asterisk MEDIA_XOFF / MEDIA_XON): stop or resume sending this stream's audio. */
  | { event: 'flow'; streamSid: string; paused: boolean };

/** How one call's outbound media is built (the pacer's LaneWire, as text). */
export interface MediaWire {
  /** Text carriers: the JSON before and after the base64 payload. Binary carriers: ''. */
  prefix: string;
  suffix: string;
  /** Raw audio in binary WebSocket messages rather than base64 inside JSON text. */
  binary: boolean;
  /** Frames per message: 1 but where the carrier wants larger messages (Exotel). */
  framesPerMessage: number;
}

export interface CarrierAdapter {
  readonly name: CarrierName;
  /** Frames held to put media back in `seq` order, for a carrier that does not guarantee it (0 or absent: none). */
  readonly reorderWindow?: number;
  /** Audio travels in binary messages both ways (text messages are control). */
  readonly binaryMedia: boolean;
  /**
   * The carrier acknowledges a mark once the audio queued before it has played, so call.heard()
   * is exact to a mark; without it heard() falls back to the send-time model (`exact: false`).
   */
  readonly playbackAck: boolean;
  /**
   * The carrier echoes the marks a clear flushed (Twilio, Telnyx). Where it does not, or its docs do
   * not say, marks already sent settle 'cleared' at the clear and a late echo is ignored.
   */
  readonly clearEchoesMarks: boolean;
  /** A tighter cap on mark names than maxMarkNameBytes, where the carrier limits its commands (Asterisk). */
  readonly maxMarkNameBytes?: number;
  /**
   * Parse and validate one inbound text message; throws ProtocolRejection with a PTIME_ERR_* code.
   * `format` is the stream's, once its start has been read (null before).
   */
  parse(text: string, format: AudioFormat | null): InboundEvent;
  /** A binary message of a binary carrier: one 20 ms frame of `format` (null: before the start). */
  parseBinary(data: Buffer, format: AudioFormat | null): InboundEvent;
  /** How outbound media is built for this call, once per call. */
  mediaWire(streamSid: string, format: AudioFormat): MediaWire;
  markMessage(streamSid: string, name: string): string;
  clearMessage(streamSid: string): string;
}
