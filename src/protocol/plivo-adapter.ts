import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, StartInfo } from './carrier-adapter.js';
import { count, decodeFrame, DTMF_DIGIT, MAX_ID_CHARS, object, parseJson, reject, text, unknownEvent, type Json } from './json-fields.js';
import { MAX_MARK_NAME_CHARS } from './twilio-adapter.js';

/** Plivo's `extraHeaders` is capped at 512 bytes; anything longer is not Plivo's. */
const MAX_EXTRA_HEADERS_CHARS = 512;

/** `k=v;k=v` (Plivo's `extra_headers`) as parameters; a part without `=` is skipped. */
function extraHeaders(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'string' || v.length > MAX_EXTRA_HEADERS_CHARS) reject(ErrorCodes.BAD_MESSAGE, `extra_headers must be a string of at most ${MAX_EXTRA_HEADERS_CHARS} characters`);
  const out: Record<string, string> = {};
  for (const part of v.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

/** The stream id where Plivo names it; '' where it does not (the session then takes it as this stream's). */
function streamIdOf(msg: Json): string {
  const v = msg['streamId'];
  if (v === undefined) return '';
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_CHARS) reject(ErrorCodes.STREAM_SID, 'streamId must be a non-empty string');
  return v;
}

/**
 * Plivo Audio Streams, bidirectional, `audio/x-mulaw;rate=8000`: camelCase, the stream named by
 * `streamId`. Outbound audio is `playAudio`; a mark is a `checkpoint`, echoed as `playedStream`
 * once the audio before it has played; `clearAudio` is the clear (acknowledged by `clearedAudio`).
 * Plivo sends no `stop`: the socket's close ends the stream.
 */
export class PlivoAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'plivo';

  parse(raw: string): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'start':
        return this.start(msg);
      case 'media': {
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload'], 'mu-law');
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        return { event, streamSid: streamIdOf(msg), track, chunk: count(media, 'chunk', 'media'), timestamp: count(media, 'timestamp', 'media'), payload };
      }
      case 'dtmf': {
        const dtmf = object(msg['dtmf'], 'dtmf');
        const digit = dtmf['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return { event, streamSid: streamIdOf(msg), track: typeof dtmf['track'] === 'string' ? dtmf['track'] : 'inbound', digit };
      }
      case 'playedStream':
        return { event: 'mark', streamSid: streamIdOf(msg), name: text(msg, 'name', 'playedStream', MAX_MARK_NAME_CHARS) };
      case 'clearedAudio':
        return { event: 'ack', what: 'clearedAudio' };
      default:
        unknownEvent(event);
    }
  }

  private start(msg: Json): InboundEvent {
    const start = object(msg['start'], 'start');
    const format = object(start['mediaFormat'], 'start.mediaFormat');
    const encoding = format['encoding'];
    const rate = Number(format['sampleRate']);
    if (encoding !== 'audio/x-mulaw' || rate !== 8000) {
      reject(ErrorCodes.MEDIA_FORMAT, `unsupported media format ${String(encoding)}/${String(format['sampleRate'])}; ptime speaks audio/x-mulaw at 8000 Hz (contentType="audio/x-mulaw;rate=8000")`);
    }
    const tracks = Array.isArray(start['tracks']) ? start['tracks'].filter((t): t is string => typeof t === 'string') : ['inbound'];
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: text(start, 'streamId', 'start'),
      accountSid: typeof start['accountId'] === 'string' ? start['accountId'].slice(0, MAX_ID_CHARS) : '',
      callSid: text(start, 'callId', 'start'),
      tracks,
      customParameters: extraHeaders(msg['extra_headers']),
    };
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  mediaWire(_streamSid: string): { prefix: string; suffix: string } {
    return { prefix: '{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"', suffix: '"}}' };
  }

  markMessage(streamSid: string, name: string): string {
    return JSON.stringify({ event: 'checkpoint', streamId: streamSid, name });
  }

  clearMessage(streamSid: string): string {
    return JSON.stringify({ event: 'clearAudio', streamId: streamSid });
  }
}
