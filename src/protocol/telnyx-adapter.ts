import { ErrorCodes, ProtocolRejection, type ErrorCode } from '../errors.js';
import { FRAME_BYTES } from '../ring/lane-layout.js';
import type { CarrierAdapter, CarrierName, InboundEvent, StartInfo } from './carrier-adapter.js';
import { MAX_MARK_NAME_CHARS } from './twilio-adapter.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DTMF_DIGIT = /^[0-9*#A-D]$/;
const MAX_ID_CHARS = 128;

type Json = Record<string, unknown>;

function reject(code: ErrorCode, message: string): never {
  throw new ProtocolRejection(code, message);
}

function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) reject(ErrorCodes.BAD_MESSAGE, `${where} must be an object`);
  return v as Json;
}

function text(o: Json, key: string, where: string, maxChars = MAX_ID_CHARS): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-empty string`);
  if (v.length > maxChars) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} is longer than ${maxChars} characters`);
  return v;
}

function optionalText(o: Json, key: string): string {
  const v = o[key];
  return typeof v === 'string' && v.length <= MAX_ID_CHARS ? v : '';
}

/** Telnyx sends counters as strings; accept either, reject anything else. */
function count(o: Json, key: string, where: string): number {
  const v = o[key];
  const n = typeof v === 'string' && v.length > 0 && v.length < 16 ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-negative number`);
  return n;
}

function streamId(o: Json): string {
  const v = o['stream_id'];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.STREAM_SID, 'message has no stream_id');
  return v;
}

function decodeFrame(payload: unknown): Buffer {
  if (typeof payload !== 'string') reject(ErrorCodes.BAD_PAYLOAD, 'media.payload must be a base64 string');
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) reject(ErrorCodes.BAD_PAYLOAD, 'media.payload is not base64');
  const bytes = (payload.length / 4) * 3 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (bytes !== FRAME_BYTES) reject(ErrorCodes.PAYLOAD_SIZE, `media.payload must be ${FRAME_BYTES} bytes (20 ms of 8 kHz PCMU), got ${bytes}`);
  return Buffer.from(payload, 'base64');
}

/**
 * Telnyx Media Streaming over WebSocket, bidirectional in RTP mode with PCMU at 8 kHz
 * (`stream_bidirectional_mode: "rtp"`, `stream_bidirectional_codec: "PCMU"`): snake_case, the
 * stream named by `stream_id`, counters as strings. Outbound `media`, `mark` and `clear` carry no
 * stream id (one stream per socket). Telnyx does not guarantee inbound order: each media event
 * carries `sequence_number`, which the session may use to reorder.
 */
export class TelnyxAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'telnyx';

  parse(raw: string): InboundEvent {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      reject(ErrorCodes.BAD_JSON, 'message is not JSON');
    }
    const msg = object(parsed, 'message');
    const event = msg['event'];
    switch (event) {
      case 'connected':
        return { event, protocol: 'telnyx', version: optionalText(msg, 'version') };
      case 'start':
        return this.start(msg);
      case 'media': {
        const sid = streamId(msg);
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload']);
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        return { event, streamSid: sid, track, chunk: count(media, 'chunk', 'media'), timestamp: count(media, 'timestamp', 'media'), payload };
      }
      case 'dtmf': {
        const sid = streamId(msg);
        const digit = object(msg['dtmf'], 'dtmf')['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return { event, streamSid: sid, track: 'inbound', digit };
      }
      case 'mark':
        return { event, streamSid: streamId(msg), name: text(object(msg['mark'], 'mark'), 'name', 'mark', MAX_MARK_NAME_CHARS) };
      case 'stop': {
        const sid = streamId(msg);
        const stop = msg['stop'] === undefined ? {} : object(msg['stop'], 'stop');
        return { event, streamSid: sid, accountSid: optionalText(stop, 'user_id'), callSid: optionalText(stop, 'call_control_id') };
      }
      default:
        reject(ErrorCodes.UNKNOWN_EVENT, `unknown event ${typeof event === 'string' ? JSON.stringify(event.slice(0, 64)) : `of type ${Array.isArray(event) ? 'array' : typeof event}`}`);
    }
  }

  private start(msg: Json): InboundEvent {
    const start = object(msg['start'], 'start');
    const format = object(start['media_format'], 'start.media_format');
    const encoding = format['encoding'];
    const rate = Number(format['sample_rate']);
    const channels = format['channels'] === undefined ? 1 : Number(format['channels']);
    if (encoding !== 'PCMU' || rate !== 8000 || channels !== 1) {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported media format ${String(encoding)}/${String(format['sample_rate'])}/${String(format['channels'])}; ptime speaks PCMU, 8000 Hz, 1 channel (stream_bidirectional_codec: "PCMU")`,
      );
    }
    const params = start['custom_parameters'] === undefined ? {} : object(start['custom_parameters'], 'start.custom_parameters');
    const customParameters: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) {
      if (typeof v !== 'string') reject(ErrorCodes.BAD_MESSAGE, `start.custom_parameters.${k} must be a string`);
      customParameters[k] = v;
    }
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: streamId(msg),
      accountSid: optionalText(start, 'user_id'),
      callSid: text(start, 'call_control_id', 'start'),
      tracks: ['inbound'],
      customParameters,
    };
    return { event: 'start', streamSid: info.streamSid, start: info };
  }

  mediaWire(_streamSid: string): { prefix: string; suffix: string } {
    return { prefix: '{"event":"media","media":{"payload":"', suffix: '"}}' };
  }

  markMessage(_streamSid: string, name: string): string {
    return JSON.stringify({ event: 'mark', mark: { name } });
  }

  clearMessage(_streamSid: string): string {
    return '{"event":"clear"}';
  }
}
