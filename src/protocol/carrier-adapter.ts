/**
 * What the engine needs from a carrier protocol. Twilio is the only one today; Telnyx, Plivo,
 * Exotel and others differ in names and casing, so everything carrier-specific stays behind this.
 * Nothing here touches a socket or assumes the main thread.
 */
export interface StartInfo {
  streamSid: string;
  accountSid: string;
  callSid: string;
  tracks: string[];
  customParameters: Record<string, string>;
}

export interface InboundMedia {
  /** One 160-byte mu-law frame. */
  payload: Buffer;
  track: string;
  chunk: number;
  timestamp: number;
}

export type InboundEvent =
  | { event: 'connected'; protocol: string; version: string }
  | { event: 'start'; streamSid: string; start: StartInfo }
  | { event: 'media'; streamSid: string; track: string; chunk: number; timestamp: number; payload: Buffer }
  | { event: 'dtmf'; streamSid: string; track: string; digit: string }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'stop'; streamSid: string; accountSid: string; callSid: string };

export interface CarrierAdapter {
  /** Parse and validate one inbound text message; throws ProtocolRejection with a PTIME_ERR_* code. */
  parse(text: string): InboundEvent;
  /** Outbound media is `prefix + base64(frame) + suffix`, built once per call. */
  mediaWire(streamSid: string): { prefix: string; suffix: string };
  markMessage(streamSid: string, name: string): string;
  clearMessage(streamSid: string): string;
}
