import type { CarrierName } from '../protocol/carrier-adapter.js';
import { connectedMessage, startMessage } from './twilio-side.js';

const MULAW_SILENCE_B64 = Buffer.alloc(160, 0xff).toString('base64');
const one = (): number => 1;

/**
 * The carrier's half of a stream, per dialect, for the load generator: what it sends (start, media,
 * DTMF, stop) and how it recognises and answers what ptime sends (media by prefix, clear, marks).
 * Media messages are built by string concatenation: the generator sends 50 per second per call.
 */
export interface CarrierSide {
  /** Messages that open the stream. */
  opening(streamSid: string, callSid: string, mode: string): string[];
  /**
   * One inbound 20 ms frame (text carriers: JSON around base64; binary: the raw frame): silence,
   * or on a mu-law JSON carrier (`stampable`) the base64 payload given.
   */
  media(streamSid: string, chunk: number, payloadB64?: string): string | Buffer;
  /** Its media can carry a numbered frame (frame-stamp.ts), which comes back in the echo. */
  readonly stampable: boolean;
  dtmf(streamSid: string, digit: string): string;
  /** The hang-up message, or null where the carrier just closes the socket (Plivo). */
  stop(streamSid: string, callSid: string): string | null;
  /** Outbound media starts with these bytes (checked without parsing); null: media is every binary message. */
  readonly mediaPrefix: Buffer | null;
  /** 20 ms frames in one outbound media message (Exotel batches them). */
  framesIn(data: Buffer): number;
  /** Whether a parsed outbound message is the carrier's clear. */
  isClear(msg: Record<string, unknown>): boolean;
  /** The echo of an outbound mark (the generator plays instantly), or null if `msg` is not a mark. */
  markEcho(msg: Record<string, unknown>, streamSid: string): string | null;
}

const twilioSide: CarrierSide = {
  opening: (sid, call, mode) => [connectedMessage(), startMessage(sid, call, { mode })],
  media: (sid, chunk, payload = MULAW_SILENCE_B64) =>
    `{"event":"media","streamSid":"${sid}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payload}"},"sequenceNumber":"${chunk + 1}"}`,
  stampable: true,
  dtmf: (sid, digit) =>
    JSON.stringify({ event: 'dtmf', streamSid: sid, sequenceNumber: '0', dtmf: { track: 'inbound_track', digit } }),
  stop: (sid, call) =>
    JSON.stringify({ event: 'stop', streamSid: sid, sequenceNumber: '0', stop: { accountSid: 'AC0', callSid: call } }),
  mediaPrefix: Buffer.from('{"event":"media"'),
  framesIn: one,
  isClear: (msg) => msg['event'] === 'clear',
  markEcho: (msg, sid) =>
    msg['event'] === 'mark'
      ? JSON.stringify({
          event: 'mark',
          streamSid: sid,
          sequenceNumber: '0',
          mark: { name: (msg['mark'] as { name?: string } | undefined)?.name ?? '' },
        })
      : null,
};

const telnyxSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({ event: 'connected', version: '1.0.0' }),
    JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_id: sid,
      start: {
        user_id: 'u0',
        call_control_id: `v3:${call}`,
        custom_parameters: { mode },
        media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
      },
    }),
  ],
  media: (sid, chunk, payload = MULAW_SILENCE_B64) =>
    `{"event":"media","sequence_number":"${chunk + 1}","stream_id":"${sid}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${payload}"}}`,
  stampable: true,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', stream_id: sid, dtmf: { digit } }),
  stop: (sid, call) =>
    JSON.stringify({ event: 'stop', stream_id: sid, stop: { user_id: 'u0', call_control_id: `v3:${call}` } }),
  mediaPrefix: Buffer.from('{"event":"media"'),
  framesIn: one,
  isClear: (msg) => msg['event'] === 'clear',
  markEcho: (msg, sid) =>
    msg['event'] === 'mark'
      ? JSON.stringify({
          event: 'mark',
          stream_id: sid,
          mark: { name: (msg['mark'] as { name?: string } | undefined)?.name ?? '' },
        })
      : null,
};

const plivoSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({
      event: 'start',
      sequenceNumber: 1,
      start: {
        callId: call,
        streamId: sid,
        accountId: 'MA0',
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 },
      },
      extra_headers: `mode=${mode}`,
    }),
  ],
  media: (sid, chunk, payload = MULAW_SILENCE_B64) =>
    `{"event":"media","sequenceNumber":${chunk + 1},"streamId":"${sid}","media":{"track":"inbound","timestamp":"${chunk * 20}","chunk":${chunk},"payload":"${payload}"}}`,
  stampable: true,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', streamId: sid, dtmf: { track: 'inbound', digit } }),
  stop: () => null,
  mediaPrefix: Buffer.from('{"event":"playAudio"'),
  framesIn: one,
  isClear: (msg) => msg['event'] === 'clearAudio',
  markEcho: (msg, sid) =>
    msg['event'] === 'checkpoint'
      ? JSON.stringify({ event: 'playedStream', streamId: sid, name: msg['name'] ?? '' })
      : null,
};

/** Exotel at its default 8 kHz: L16, 320 bytes a frame, outbound batched (EXOTEL_MIN_MESSAGE_BYTES). */
const EXOTEL_SILENCE_B64 = Buffer.alloc(320).toString('base64');
const exotelSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({ event: 'connected' }),
    JSON.stringify({
      event: 'start',
      sequence_number: '1',
      stream_sid: sid,
      start: {
        stream_sid: sid,
        call_sid: call,
        account_sid: 'ex0',
        from: '+10',
        to: '+11',
        custom_parameters: { mode },
        media_format: { encoding: 'audio/x-raw', sample_rate: '8000', bit_rate: '16' },
      },
    }),
  ],
  media: (sid, chunk) =>
    `{"event":"media","sequence_number":"${chunk + 1}","stream_sid":"${sid}","media":{"chunk":"${chunk}","timestamp":"${chunk * 20}","payload":"${EXOTEL_SILENCE_B64}"}}`,
  stampable: false,
  dtmf: (sid, digit) => JSON.stringify({ event: 'dtmf', stream_sid: sid, dtmf: { digit, duration: '100' } }),
  stop: (sid, call) =>
    JSON.stringify({
      event: 'stop',
      stream_sid: sid,
      stop: { call_sid: call, account_sid: 'ex0', reason: 'callended' },
    }),
  mediaPrefix: Buffer.from('{"event":"media"'),
  // The payload is everything between `"payload":"` and the closing `"}}`: base64 of L16 at 8 kHz.
  framesIn: (data) => Math.round(((data.length - data.indexOf('"payload":"') - 11 - 3) * 3) / 4 / 320),
  isClear: (msg) => msg['event'] === 'clear',
  markEcho: (msg, sid) =>
    msg['event'] === 'mark'
      ? JSON.stringify({
          event: 'mark',
          stream_sid: sid,
          mark: { name: (msg['mark'] as { name?: string } | undefined)?.name ?? '' },
        })
      : null,
};

/** Vonage at 16 kHz: binary L16, 640 bytes a frame both ways. */
const VONAGE_SILENCE = Buffer.alloc(640);
const vonageSide: CarrierSide = {
  opening: (_sid, call, mode) => [
    JSON.stringify({ event: 'websocket:connected', 'content-type': 'audio/l16;rate=16000', mode, uuid: call }),
  ],
  media: () => VONAGE_SILENCE,
  stampable: false,
  dtmf: (_sid, digit) => JSON.stringify({ event: 'websocket:dtmf', digit, duration: 260 }),
  stop: () => null,
  mediaPrefix: null,
  framesIn: one,
  isClear: (msg) => msg['action'] === 'clear',
  markEcho: (msg) =>
    msg['action'] === 'notify' ? JSON.stringify({ event: 'websocket:notify', payload: msg['payload'] }) : null,
};

/** Asterisk chan_websocket with ulaw: binary 160-byte frames, JSON control. */
const ASTERISK_SILENCE = Buffer.alloc(160, 0xff);
const asteriskSide: CarrierSide = {
  opening: (sid, call, mode) => [
    JSON.stringify({
      event: 'MEDIA_START',
      connection_id: sid,
      channel: `WebSocket/${sid}`,
      channel_id: call,
      format: 'ulaw',
      optimal_frame_size: 160,
      ptime: 20,
      channel_variables: { mode },
    }),
  ],
  media: () => ASTERISK_SILENCE,
  stampable: false,
  dtmf: (_sid, digit) => JSON.stringify({ event: 'DTMF_END', channel_id: 'c', digit }),
  stop: () => null,
  mediaPrefix: null,
  framesIn: one,
  isClear: (msg) => msg['command'] === 'FLUSH_MEDIA',
  markEcho: (msg) =>
    msg['command'] === 'MARK_MEDIA'
      ? JSON.stringify({ event: 'MEDIA_MARK_PROCESSED', channel_id: 'c', correlation_id: msg['correlation_id'] })
      : null,
};

export const CARRIER_SIDES: Record<CarrierName, CarrierSide> = {
  twilio: twilioSide,
  signalwire: twilioSide,
  telnyx: telnyxSide,
  plivo: plivoSide,
  exotel: exotelSide,
  vonage: vonageSide,
  asterisk: asteriskSide,
};
