import { audioFormat, MULAW_8K, type AudioFormat } from '../codec/audio-format.js';
import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, MediaWire, StartInfo } from './carrier-adapter.js';
import {
  decodeFrame,
  noBinary,
  nonNegativeNumber,
  object,
  parseJson,
  reject,
  text,
  unknownEvent,
  type Json,
} from './json-fields.js';
import { DTMF_DIGIT, MAX_ID_CHARS, MAX_MARK_NAME_CHARS } from './wire-limits.js';

/** Plivo's `extraHeaders` is capped at 512 bytes; anything longer is not Plivo's. */
const MAX_EXTRA_HEADERS_CHARS = 512;

/** `k=v;k=v` (Plivo's `extra_headers`) as parameters; a part without `=` is skipped. */
function extraHeaders(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'string' || v.length > MAX_EXTRA_HEADERS_CHARS)
    reject(ErrorCodes.BAD_MESSAGE, `extra_headers must be a string of at most ${MAX_EXTRA_HEADERS_CHARS} characters`);
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
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_CHARS)
    reject(ErrorCodes.STREAM_SID, 'streamId must be a non-empty string');
  return v;
}

/**
 * Plivo Audio Streams, bidirectional, `audio/x-mulaw;rate=8000` or `audio/x-l16;rate=8000|16000`: camelCase, the stream named by
 * `streamId`. Outbound audio is `playAudio`; a mark is a `checkpoint`, echoed as `playedStream`
 * once the audio before it has played; `clearAudio` is the clear (acknowledged by `clearedAudio`).
 * Plivo sends no `stop`: the socket's close ends the stream.
 */
export class PlivoAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'plivo';
  readonly binaryMedia = false;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  /** Not documented: in-flight checkpoints settle 'cleared' at the clear, and a late playedStream is ignored. */
  readonly clearEchoesMarks = false;

  parse(raw: string, format: AudioFormat | null = null): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'start':
        return this.parseStart(msg);
      case 'media': {
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload'], format);
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        return {
          event,
          streamSid: streamIdOf(msg),
          track,
          chunk: nonNegativeNumber(media, 'chunk', 'media'),
          timestamp: nonNegativeNumber(media, 'timestamp', 'media'),
          payload,
        };
      }
      case 'dtmf': {
        const dtmf = object(msg['dtmf'], 'dtmf');
        const digit = dtmf['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return {
          event,
          streamSid: streamIdOf(msg),
          track: typeof dtmf['track'] === 'string' ? dtmf['track'] : 'inbound',
          digit,
        };
      }
      case 'playedStream':
        return {
          event: 'mark',
          streamSid: streamIdOf(msg),
          name: text(msg, 'name', 'playedStream', MAX_MARK_NAME_CHARS),
        };
      case 'clearedAudio':
        return { event: 'ack', what: 'clearedAudio' };
      default:
        unknownEvent(event);
    }
  }

  private parseStart(msg: Json): InboundEvent {
    const start = object(msg['start'], 'start');
    const mf = object(start['mediaFormat'], 'start.mediaFormat');
    const encoding = mf['encoding'];
    const rate = Number(mf['sampleRate']);
    let format: AudioFormat;
    if (encoding === 'audio/x-mulaw' && rate === 8000) format = MULAW_8K;
    else if (encoding === 'audio/x-l16' && (rate === 8000 || rate === 16000)) format = audioFormat('l16', rate);
    else {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported media format ${String(encoding)}/${String(mf['sampleRate'])}; ptime speaks audio/x-mulaw at 8000 Hz or audio/x-l16 at 8000 or 16000 Hz (the <Stream> contentType)`,
      );
    }
    const tracks = Array.isArray(start['tracks'])
      ? start['tracks'].filter((t): t is string => typeof t === 'string')
      : ['inbound'];
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: text(start, 'streamId', 'start'),
      accountSid: typeof start['accountId'] === 'string' ? start['accountId'].slice(0, MAX_ID_CHARS) : '',
      callSid: text(start, 'callId', 'start'),
      tracks,
      customParameters: extraHeaders(msg['extra_headers']),
      format,
    };
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  parseBinary(): InboundEvent {
    return noBinary();
  }

  mediaWire(_streamSid: string, format: AudioFormat): MediaWire {
    const contentType = format.encoding === 'l16' ? 'audio/x-l16' : 'audio/x-mulaw';
    return {
      prefix: `{"event":"playAudio","media":{"contentType":"${contentType}","sampleRate":${format.sampleRate},"payload":"`,
      suffix: '"}}',
      binary: false,
      framesPerMessage: 1,
    };
  }

  markMessage(streamSid: string, name: string): string {
    return JSON.stringify({ event: 'checkpoint', streamId: streamSid, name });
  }

  clearMessage(streamSid: string): string {
    return JSON.stringify({ event: 'clearAudio', streamId: streamSid });
  }
}
