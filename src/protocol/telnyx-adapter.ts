import { audioFormat, type AudioFormat, type WireEncoding } from '../codec/audio-format.js';
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

const streamId = (o: Json): string => requiredStreamId(o, 'stream_id');

/**
 * Telnyx Media Streaming over WebSocket, bidirectional in RTP mode (`stream_bidirectional_mode:
 * "rtp"`) with PCMU or PCMA at 8 kHz (`stream_bidirectional_codec`). Its L16 is an RTP payload,
 * big-endian by RFC 3551, which ptime's little-endian L16 path does not speak, so it is refused
 * at start rather than played as noise. Snake_case, the
 * stream named by `stream_id`, counters as strings. Outbound `media`, `mark` and `clear` carry no
 * stream id (one stream per socket). Telnyx does not guarantee inbound order: each media event's
 * `chunk` (a media-only counter) is its `seq`, by which the session reorders.
 */
export class TelnyxAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'telnyx';
  /** Four frames (80 ms): held only while one is missing, so in-order streams wait for nothing. */
  readonly reorderWindow = 4;
  readonly binaryMedia = false;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  /** A Telnyx clear "returns its pending marks". */
  readonly clearEchoesMarks = true;

  parse(raw: string, format: AudioFormat | null = null): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'connected':
        return { event, protocol: 'telnyx', version: optionalText(msg, 'version') };
      case 'start':
        return this.parseStart(msg);
      case 'media': {
        const sid = streamId(msg);
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload'], format);
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        const chunk = nonNegativeNumber(media, 'chunk', 'media');
        const timestamp = nonNegativeNumber(media, 'timestamp', 'media');
        // Ordered by chunk, which counts media only: sequence_number also counts start, DTMF and
        // mark messages, so media alone would show gaps the window waits for in vain.
        return { event, streamSid: sid, track, chunk, timestamp, payload, seq: chunk };
      }
      case 'dtmf': {
        const sid = streamId(msg);
        const digit = object(msg['dtmf'], 'dtmf')['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return { event, streamSid: sid, track: 'inbound', digit };
      }
      case 'mark':
        return {
          event,
          streamSid: streamId(msg),
          name: text(object(msg['mark'], 'mark'), 'name', 'mark', MAX_MARK_NAME_CHARS),
        };
      case 'stop': {
        const sid = streamId(msg);
        const stop = msg['stop'] === undefined ? {} : object(msg['stop'], 'stop');
        return {
          event,
          streamSid: sid,
          accountSid: optionalText(stop, 'user_id'),
          callSid: optionalText(stop, 'call_control_id'),
        };
      }
      default:
        unknownEvent(event);
    }
  }

  private parseStart(msg: Json): InboundEvent {
    const start = object(msg['start'], 'start');
    const mf = object(start['media_format'], 'start.media_format');
    const encoding = mf['encoding'];
    const rate = Number(mf['sample_rate']);
    const channels = mf['channels'] === undefined ? 1 : Number(mf['channels']);
    const wire: WireEncoding | undefined = encoding === 'PCMU' ? 'mulaw' : encoding === 'PCMA' ? 'alaw' : undefined;
    if (wire === undefined || channels !== 1 || rate !== 8000) {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported media format ${String(encoding)}/${String(mf['sample_rate'])}/${String(mf['channels'])}; ptime speaks PCMU or PCMA at 8000 Hz, 1 channel`,
      );
    }
    const format = audioFormat(wire, rate);
    const customParameters = stringMap(start['custom_parameters'], 'start.custom_parameters');
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: streamId(msg),
      accountSid: optionalText(start, 'user_id'),
      callSid: text(start, 'call_control_id', 'start'),
      tracks: ['inbound'],
      customParameters,
      format,
    };
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  parseBinary(): InboundEvent {
    return noBinary();
  }

  mediaWire(): MediaWire {
    return { prefix: '{"event":"media","media":{"payload":"', suffix: '"}}', binary: false, framesPerMessage: 1 };
  }

  markMessage(_streamSid: string, name: string): string {
    return JSON.stringify({ event: 'mark', mark: { name } });
  }

  clearMessage(_streamSid: string): string {
    return '{"event":"clear"}';
  }
}
