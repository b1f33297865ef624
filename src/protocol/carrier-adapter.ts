/**
 * What the engine needs from a carrier protocol: each carrier's dialect (names, casing, framing)
 * stays behind this. Nothing here touches a socket or assumes the main thread.
 */

/** The carriers ptime speaks (src/protocol/carriers.ts maps each to its adapter). */
export const CARRIER_NAMES = ['twilio', 'signalwire', 'telnyx', 'plivo'] as const;
export type CarrierName = (typeof CARRIER_NAMES)[number];

/** A stream's start in one shape for every carrier; `raw` is the carrier's own start message. */
export interface StartInfo {
  carrier: CarrierName;
  /** The carrier's id for this stream (Twilio/SignalWire streamSid, Telnyx stream_id). */
  streamSid: string;
  /** The account (Twilio/SignalWire accountSid; Telnyx: '' as it sends none on the socket). */
  accountSid: string;
  /** The call (Twilio/SignalWire callSid, Telnyx call_control_id). */
  callSid: string;
  tracks: string[];
  customParameters: Record<string, string>;
  raw: Record<string, unknown>;
}

export interface InboundMedia {
  /** One 160-byte mu-law frame. */
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
  | { event: 'media'; streamSid: string; track: string; chunk: number; timestamp: number; payload: Buffer; seq?: number }
  | { event: 'dtmf'; streamSid: string; track: string; digit: string }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'stop'; streamSid: string; accountSid: string; callSid: string }
  /** A carrier's acknowledgement that needs no action (Plivo's clearedAudio). */
  | { event: 'ack'; what: string };

export interface CarrierAdapter {
  readonly name: CarrierName;
  /** Frames held to put media back in `seq` order, for a carrier that does not guarantee it (0 or absent: none). */
  readonly reorderWindow?: number;
  /** Parse and validate one inbound text message; throws ProtocolRejection with a PTIME_ERR_* code. */
  parse(text: string): InboundEvent;
  /** Outbound media is `prefix + base64(frame) + suffix`, built once per call. */
  mediaWire(streamSid: string): { prefix: string; suffix: string };
  markMessage(streamSid: string, name: string): string;
  clearMessage(streamSid: string): string;
}
