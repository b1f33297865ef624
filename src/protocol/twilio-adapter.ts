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
  requiredStreamId,
  stringMap,
  text,
  unknownEvent,
  type Json,
} from './json-fields.js';
import { DTMF_DIGIT, MAX_MARK_NAME_CHARS } from './wire-limits.js';

/** The engine's options read the mark-name cap from here (its home is wire-limits.ts). */

const streamSid = (o: Json): string => requiredStreamId(o, 'streamSid');

/**
 * Twilio streams mu-law at 8 kHz only; SignalWire also L16 at 16 or 24 kHz (its `codec`
 * attribute `L16@16000h`), named in `mediaFormat` as `audio/x-l16` (unsure: its docs show no
 * start message for L16, so `audio/l16` and `L16` are accepted too).
 */
function parseFormat(start: Json, carrier: CarrierName): AudioFormat {
  const format = object(start['mediaFormat'], 'start.mediaFormat');
  const encoding = format['encoding'];
  const rate = Number(format['sampleRate']);
  const channels = format['channels'] === undefined ? 1 : Number(format['channels']);
  const supported =
    carrier === 'twilio'
      ? 'audio/x-mulaw, 8000 Hz, 1 channel'
      : 'audio/x-mulaw at 8000 Hz or audio/x-l16 at 8000, 16000 or 24000 Hz, 1 channel';
  const refuse = (): never =>
    reject(
      ErrorCodes.MEDIA_FORMAT,
      `unsupported media format ${String(encoding)}/${String(format['sampleRate'])}/${String(format['channels'])}; ptime speaks ${supported}`,
    );
  if (channels !== 1) refuse();
  if (encoding === 'audio/x-mulaw' && rate === 8000) return MULAW_8K;
  if (
    carrier === 'signalwire' &&
    typeof encoding === 'string' &&
    /^(audio\/(x-)?)?l16$/i.test(encoding) &&
    (rate === 8000 || rate === 16000 || rate === 24000)
  ) {
    return audioFormat('l16', rate);
  }
  return refuse();
}

function parseStart(msg: Json, carrier: CarrierName): InboundEvent {
  const start = object(msg['start'], 'start');
  const format = parseFormat(start, carrier);
  const customParameters = stringMap(start['customParameters'], 'start.customParameters');
  const tracks = Array.isArray(start['tracks'])
    ? start['tracks'].filter((t): t is string => typeof t === 'string')
    : [];
  const info: StartInfo = {
    carrier,
    raw: msg,
    streamSid: text(start, 'streamSid', 'start'),
    accountSid: text(start, 'accountSid', 'start'),
    callSid: text(start, 'callSid', 'start'),
    tracks,
    customParameters,
    format,
  };
  const outer = msg['streamSid'];
  if (outer !== undefined && outer !== info.streamSid)
    reject(ErrorCodes.STREAM_SID, 'start.streamSid does not match streamSid');
  return { event: 'start', streamSid: info.streamSid, start: info };
}

/** Twilio Media Streams, bidirectional (see shared/reference/twilio-media-streams.md). */
export class TwilioAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'twilio';
  readonly binaryMedia = false;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  /** Twilio sends back the marks a clear flushed. */
  readonly clearEchoesMarks: boolean = true;

  parse(raw: string, format: AudioFormat | null = null): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'media': {
        const media = object(msg['media'], 'media');
        const sid = streamSid(msg);
        const payload = decodeFrame(media['payload'], this.name === 'twilio' ? MULAW_8K : format);
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        return {
          event,
          streamSid: sid,
          track,
          chunk: nonNegativeNumber(media, 'chunk', 'media'),
          timestamp: nonNegativeNumber(media, 'timestamp', 'media'),
          payload,
        };
      }
      case 'connected':
        return {
          event,
          protocol: typeof msg['protocol'] === 'string' ? msg['protocol'] : '',
          version: typeof msg['version'] === 'string' ? msg['version'] : '',
        };
      case 'start':
        return parseStart(msg, this.name);
      case 'dtmf': {
        const sid = streamSid(msg);
        const dtmf = object(msg['dtmf'], 'dtmf');
        const digit = dtmf['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return {
          event,
          streamSid: sid,
          track: typeof dtmf['track'] === 'string' ? dtmf['track'] : 'inbound_track',
          digit,
        };
      }
      case 'mark': {
        const sid = streamSid(msg);
        return { event, streamSid: sid, name: text(object(msg['mark'], 'mark'), 'name', 'mark', MAX_MARK_NAME_CHARS) };
      }
      case 'stop': {
        const sid = streamSid(msg);
        const stop = msg['stop'] === undefined ? {} : object(msg['stop'], 'stop');
        return {
          event,
          streamSid: sid,
          accountSid: typeof stop['accountSid'] === 'string' ? stop['accountSid'] : '',
          callSid: typeof stop['callSid'] === 'string' ? stop['callSid'] : '',
        };
      }
      default:
        unknownEvent(event);
    }
  }

  parseBinary(): InboundEvent {
    return noBinary();
  }

  mediaWire(streamSid: string, _format?: AudioFormat): MediaWire {
    return {
      prefix: `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"`,
      suffix: '"}}',
      binary: false,
      framesPerMessage: 1,
    };
  }

  markMessage(streamSid: string, name: string): string {
    return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
  }

  clearMessage(streamSid: string): string {
    return JSON.stringify({ event: 'clear', streamSid });
  }
}

/**
 * SignalWire's `<Connect><Stream>` (cXML) speaks Twilio's Media Streams messages; only the name,
 * the auth (a bearer token on the upgrade) and the codec choices differ.
 */
export class SignalWireAdapter extends TwilioAdapter {
  override readonly name: CarrierName = 'signalwire';
  /** Not documented for SignalWire: in-flight marks settle 'cleared' at the clear, and a late echo is ignored. */
  override readonly clearEchoesMarks: boolean = false;
}
