import { audioFormat, type AudioFormat } from '../codec/audio-format.js';
import { ErrorCodes, PtimeError } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, MediaWire, StartInfo } from './carrier-adapter.js';
import {
  binaryFrame,
  BINARY_WIRE,
  parseJson,
  reject,
  stringMap,
  text,
  unknownEvent,
  type Json,
} from './json-fields.js';
import { DTMF_DIGIT } from './wire-limits.js';

/** Asterisk ignores (with a log line) a text message longer than this. */
export const ASTERISK_MAX_COMMAND_BYTES = 128;
const MARK_PREFIX = '{"command":"MARK_MEDIA","correlation_id":';

/** Asterisk's format names for what ptime speaks; `slin*` is host-order PCM, little-endian on x86-64 and arm64. */
const FORMATS: Record<string, AudioFormat> = {
  ulaw: audioFormat('mulaw', 8000),
  alaw: audioFormat('alaw', 8000),
  slin: audioFormat('l16', 8000),
  slin16: audioFormat('l16', 16000),
  slin24: audioFormat('l16', 24000),
};

/**
 * Asterisk `chan_websocket` (Dial(WebSocket/…) with a websocket_client.conf entry), control in JSON
 * (`control_message_format=json`): binary messages are raw audio in the channel's format, text
 * messages are control. `MEDIA_START` is the start (connection_id names the stream, channel_id the
 * call, channel_variables are the parameters). Marks are `MARK_MEDIA` with a `correlation_id`,
 * answered by `MEDIA_MARK_PROCESSED` when they reach the head of Asterisk's queue; the clear is
 * `FLUSH_MEDIA`, which answers nothing and silently drops queued marks. `MEDIA_XOFF`/`MEDIA_XON`
 * pause and resume sending. Asterisk sends no stop: the socket's close ends the stream.
 */
export class AsteriskAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'asterisk';
  readonly binaryMedia = true;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  readonly clearEchoesMarks = false;
  /** A MARK_MEDIA command must fit in 128 bytes. */
  readonly maxMarkNameBytes = ASTERISK_MAX_COMMAND_BYTES - MARK_PREFIX.length - 3;

  parse(raw: string): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'MEDIA_START':
        return this.parseStart(msg);
      case 'DTMF_END': {
        const digit = msg['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'DTMF_END digit must be one of 0-9 * # A-D');
        return { event: 'dtmf', streamSid: '', track: 'inbound', digit };
      }
      case 'MEDIA_XOFF':
      case 'MEDIA_XON':
        return { event: 'flow', streamSid: '', paused: event === 'MEDIA_XOFF' };
      case 'MEDIA_MARK_PROCESSED': {
        const id = msg['correlation_id'];
        if (id === '' || id === undefined) return { event: 'ack', what: event };
        return {
          event: 'mark',
          streamSid: '',
          name: text(msg, 'correlation_id', 'MEDIA_MARK_PROCESSED', ASTERISK_MAX_COMMAND_BYTES),
        };
      }
      case 'STATUS':
      case 'QUEUE_DRAINED':
      case 'MEDIA_BUFFERING_COMPLETED':
      case 'ERROR':
        return { event: 'ack', what: event };
      default:
        unknownEvent(event);
    }
  }

  private parseStart(msg: Json): InboundEvent {
    const name = msg['format'];
    const format = typeof name === 'string' ? FORMATS[name] : undefined;
    if (format === undefined || (msg['ptime'] !== undefined && msg['ptime'] !== 20)) {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported media ${String(name).slice(0, 32)} at ptime ${String(msg['ptime'])}; ptime speaks ${Object.keys(FORMATS).join(', ')} at ptime 20`,
      );
    }
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: text(msg, 'connection_id', 'MEDIA_START'),
      accountSid: '',
      callSid: text(msg, 'channel_id', 'MEDIA_START'),
      tracks: ['inbound'],
      customParameters: stringMap(msg['channel_variables'], 'MEDIA_START.channel_variables'),
      format,
    };
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  parseBinary(data: Buffer, format: AudioFormat | null): InboundEvent {
    return binaryFrame(data, format);
  }

  mediaWire(): MediaWire {
    return BINARY_WIRE;
  }

  markMessage(_streamSid: string, name: string): string {
    const wire = `${MARK_PREFIX}${JSON.stringify(name)}}`;
    if (Buffer.byteLength(wire) > ASTERISK_MAX_COMMAND_BYTES) {
      throw new PtimeError(
        ErrorCodes.MARK_NAME,
        `mark name makes a MARK_MEDIA command of ${Buffer.byteLength(wire)} bytes; Asterisk ignores commands over ${ASTERISK_MAX_COMMAND_BYTES}`,
      );
    }
    return wire;
  }

  clearMessage(): string {
    return '{"command":"FLUSH_MEDIA"}';
  }
}
