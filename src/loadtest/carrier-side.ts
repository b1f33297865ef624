import type { CarrierName } from '../protocol/carrier-adapter.js';
import { connectedMessage, startMessage } from './twilio-side.js';

/**
 * The carrier's half of a stream, per dialect, for the load generator: what it sends (start, media,
 * DTMF, stop) and how it recognises and answers what ptime sends (media by prefix, clear, marks).
 * Media messages are built by string concatenation: the generator sends 50 per second per call.
 */
export interface CarrierSide {
  /** Messages that open the stream. */
  opening(streamSid: string, callSid: string, mode: string): string[];
  media(streamSid: string, chunk: number, payloadB64: string): string;
  dtmf(streamSid: string, digit: string): string;
  /** The hang-up message, or null where the carrier just closes the socket (Plivo). */
  stop(streamSid: string, callSid: string): string | null;
  /** Outbound media starts with these bytes (checked without parsing). */
  readonly mediaPrefix: Buffer;
  /** Whether a parsed outbound message is the carrier's clear. */
  isClear(msg: Record<string, unknown>): boolean;
  /** The echo of an outbound mark (the generator plays instantly), or null if `msg` is not a mark. */
  markEcho(msg: Record<string, unknown>, streamSid: string): string | null;
}

const twilioSide: CarrierSide = {
  opening: (sid, call, mode) => [connectedMessage(), startMessage(sid, call, { mode })],
  media: (sid, chunk, payload) =>
    `{"event":"media","streamSid":"${sid}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payload}"},"sequenceNumber":"${chunk + 1}"}`,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', streamSid: sid, sequenceNumber: '0', dtmf: { track: 'inbound_track', digit } }),
  stop: (sid, call) => JSON.stringify({ event: 'stop', streamSid: sid, sequenceNumber: '0', stop: { accountSid: 'AC0', callSid: call } }),
  mediaPrefix: Buffer.from('{"event":"media"'),
  isClear: (msg) => msg['event'] === 'clear',
  markEcho: (msg, sid) =>
    msg['event'] === 'mark' ? JSON.stringify({ event: 'mark', streamSid: sid, sequenceNumber: '0', mark: { name: (msg['mark'] as { name?: string } | undefined)?.name ?? '' } }) : null,
};

const telnyxSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({ event: 'connected', version: '1.0.0' }),
    JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_id: sid,
      start: { user_id: 'u0', call_control_id: `v3:${call}`, custom_parameters: { mode }, media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } },
    }),
  ],
  media: (sid, chunk, payload) =>
    `{"event":"media","sequence_number":"${chunk + 1}","stream_id":"${sid}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payload}"}}`,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', stream_id: sid, dtmf: { digit } }),
  stop: (sid, call) => JSON.stringify({ event: 'stop', stream_id: sid, stop: { user_id: 'u0', call_control_id: `v3:${call}` } }),
  mediaPrefix: Buffer.from('{"event":"media"'),
  isClear: (msg) => msg['event'] === 'clear',
  markEcho: (msg, sid) => (msg['event'] === 'mark' ? JSON.stringify({ event: 'mark', stream_id: sid, mark: { name: (msg['mark'] as { name?: string } | undefined)?.name ?? '' } }) : null),
};

const plivoSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({
      event: 'start',
      sequenceNumber: 1,
      start: { callId: call, streamId: sid, accountId: 'MA0', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } },
      extra_headers: `mode=${mode}`,
    }),
  ],
  media: (sid, chunk, payload) =>
    `{"event":"media","sequenceNumber":${chunk + 1},"streamId":"${sid}","media":{"track":"inbound","timestamp":"${chunk * 20}","chunk":${chunk},"payload":"${payload}"}}`,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', streamId: sid, dtmf: { track: 'inbound', digit } }),
  stop: () => null,
  mediaPrefix: Buffer.from('{"event":"playAudio"'),
  isClear: (msg) => msg['event'] === 'clearAudio',
  markEcho: (msg, sid) => (msg['event'] === 'checkpoint' ? JSON.stringify({ event: 'playedStream', streamId: sid, name: msg['name'] ?? '' }) : null),
};

export const CARRIER_SIDES: Record<CarrierName, CarrierSide> = {
  twilio: twilioSide,
  signalwire: twilioSide,
  telnyx: telnyxSide,
  plivo: plivoSide,
};
