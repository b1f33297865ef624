import { audioFormat, type AudioFormat } from '../codec/audio-format.js';
import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, MediaWire, StartInfo } from './carrier-adapter.js';
import {
  decodeFrame,
  noBinary,
  nonNegativeNumber,
  object,
  optionalText,
  parseJson,
  reject,
  requiredStreamId,
  stringMap,
  text,
  unknownEvent,
  type Json,
} from './json-fields.js';
import { DTMF_DIGIT, MAX_MARK_NAME_CHARS } from './wire-limits.js';

/**
 * Exotel asks for messages of at least 3.2 kB (and multiples of 320 bytes, at most 100 kB): short
 * messages make its player wait. So a message carries as many 20 ms frames as reach 3,200 bytes:
 * 10 at 8 kHz (200 ms), 5 at 16 kHz (100 ms), 4 at 24 kHz (80 ms, 3,840 bytes).
 */
export const EXOTEL_MIN_MESSAGE_BYTES = 3200;

/**
 * Exotel sends inbound audio in chunks of whole 20 ms frames (every 100 ms in its docs, 20 ms in
 * older ones): up to 100 ms is accepted, and the session hands it to the call frame by frame.
 */
const MAX_INBOUND_FRAMES = 5;

const streamSid = (o: Json): string => requiredStreamId(o, 'stream_sid');

/**
 * Exotel's Voicebot applet (AgentStream), bidirectional: snake_case like Telnyx, base64 of 16-bit
 * little-endian PCM (not G.711) at the rate the stream URL's `?sample-rate=` chose (8000 by
 * default), numbers often as strings. Outbound `media`, `mark` and `clear` carry `stream_sid`.
 */
export class ExotelAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'exotel';
  readonly binaryMedia = false;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  /** Not documented: in-flight marks settle 'cleared' at the clear. */
  readonly clearEchoesMarks = false;

  parse(raw: string, format: AudioFormat | null = null): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'connected':
        return { event, protocol: 'exotel', version: '' };
      case 'start':
        return this.parseStart(msg);
      case 'media': {
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload'], format, MAX_INBOUND_FRAMES);
        return {
          event,
          streamSid: streamSid(msg),
          track: 'inbound',
          chunk: nonNegativeNumber(media, 'chunk', 'media'),
          timestamp: nonNegativeNumber(media, 'timestamp', 'media'),
          payload,
        };
      }
      case 'dtmf': {
        const digit = object(msg['dtmf'], 'dtmf')['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return { event, streamSid: streamSid(msg), track: 'inbound', digit };
      }
      case 'mark':
        return {
          event,
          streamSid: streamSid(msg),
          name: text(object(msg['mark'], 'mark'), 'name', 'mark', MAX_MARK_NAME_CHARS),
        };
      case 'stop': {
        const stop = msg['stop'] === undefined ? {} : object(msg['stop'], 'stop');
        return {
          event,
          streamSid: streamSid(msg),
          accountSid: optionalText(stop, 'account_sid'),
          callSid: optionalText(stop, 'call_sid'),
        };
      }
      default:
        unknownEvent(event);
    }
  }

  private parseStart(msg: Json): InboundEvent {
    const start = object(msg['start'], 'start');
    const mf = object(start['media_format'], 'start.media_format');
    const rate = Number(mf['sample_rate']);
    if (rate !== 8000 && rate !== 16000 && rate !== 24000) {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported media format ${String(mf['encoding'])}/${String(mf['sample_rate'])}; ptime speaks Exotel's 16-bit PCM at 8000, 16000 or 24000 Hz (?sample-rate=)`,
      );
    }
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: text(start, 'stream_sid', 'start'),
      accountSid: optionalText(start, 'account_sid'),
      callSid: text(start, 'call_sid', 'start'),
      tracks: ['inbound'],
      customParameters: stringMap(start['custom_parameters'], 'start.custom_parameters'),
      format: audioFormat('l16', rate),
    };
    const outer = msg['stream_sid'];
    if (outer !== undefined && outer !== info.streamSid)
      reject(ErrorCodes.STREAM_SID, 'start.stream_sid does not match stream_sid');
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  parseBinary(): InboundEvent {
    return noBinary();
  }

  mediaWire(streamSid: string, format: AudioFormat): MediaWire {
    return {
      prefix: `{"event":"media","stream_sid":${JSON.stringify(streamSid)},"media":{"payload":"`,
      suffix: '"}}',
      binary: false,
      framesPerMessage: Math.ceil(EXOTEL_MIN_MESSAGE_BYTES / format.frameBytes),
    };
  }

  markMessage(streamSid: string, name: string): string {
    return JSON.stringify({ event: 'mark', stream_sid: streamSid, mark: { name } });
  }

  clearMessage(streamSid: string): string {
    return JSON.stringify({ event: 'clear', stream_sid: streamSid });
  }
}
