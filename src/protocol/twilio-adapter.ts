import { ErrorCodes, ProtocolRejection, type ErrorCode } from '../errors.js';
import { FRAME_BYTES } from '../ring/lane-layout.js';
import type { CarrierAdapter, CarrierName, InboundEvent, StartInfo } from './carrier-adapter.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DTMF_DIGIT = /^[0-9*#A-D]$/;
/** Ids Twilio sends are short; anything longer is not Twilio. */
const MAX_ID_CHARS = 128;
/** Mark names are ours, echoed back: the protocol cap is the largest maxMarkNameBytes allowed. */
export const MAX_MARK_NAME_CHARS = 4096;

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

/** Twilio sends number-like fields as strings; accept either, reject anything else. */
function count(o: Json, key: string, where: string): number {
  const v = o[key];
  const n = typeof v === 'string' && v.length > 0 && v.length < 16 ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-negative number`);
  return n;
}

function streamSid(o: Json): string {
  const v = o['streamSid'];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.STREAM_SID, 'message has no streamSid');
  return v;
}

function decodeFrame(payload: unknown): Buffer {
  if (typeof payload !== 'string') reject(ErrorCodes.BAD_PAYLOAD, 'media.payload must be a base64 string');
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) reject(ErrorCodes.BAD_PAYLOAD, 'media.payload is not base64');
  // 160, 161 and 162 bytes all encode to 216 characters: the padding tells them apart.
  const bytes = (payload.length / 4) * 3 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (bytes !== FRAME_BYTES) {
    reject(ErrorCodes.PAYLOAD_SIZE, `media.payload must be ${FRAME_BYTES} bytes (20 ms of 8 kHz mu-law), got ${bytes}`);
  }
  return Buffer.from(payload, 'base64');
}

function parseStart(msg: Json, carrier: CarrierName): InboundEvent {
  const start = object(msg['start'], 'start');
  const format = object(start['mediaFormat'], 'start.mediaFormat');
  const encoding = format['encoding'];
  const rate = Number(format['sampleRate']);
  const channels = Number(format['channels']);
  if (encoding !== 'audio/x-mulaw' || rate !== 8000 || channels !== 1) {
    reject(
      ErrorCodes.MEDIA_FORMAT,
      `unsupported media format ${String(encoding)}/${String(format['sampleRate'])}/${String(format['channels'])}; ptime speaks audio/x-mulaw, 8000 Hz, 1 channel`,
    );
  }
  const params = start['customParameters'] === undefined ? {} : object(start['customParameters'], 'start.customParameters');
  const customParameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string') reject(ErrorCodes.BAD_MESSAGE, `start.customParameters.${k} must be a string`);
    customParameters[k] = v;
  }
  const tracks = Array.isArray(start['tracks']) ? start['tracks'].filter((t): t is string => typeof t === 'string') : [];
  const info: StartInfo = {
    carrier,
    raw: msg,
    streamSid: text(start, 'streamSid', 'start'),
    accountSid: text(start, 'accountSid', 'start'),
    callSid: text(start, 'callSid', 'start'),
    tracks,
    customParameters,
  };
  const outer = msg['streamSid'];
  if (outer !== undefined && outer !== info.streamSid) reject(ErrorCodes.STREAM_SID, 'start.streamSid does not match streamSid');
  return { event: 'start', streamSid: info.streamSid, start: info };
}

/** Twilio Media Streams, bidirectional (see shared/reference/twilio-media-streams.md). */
export class TwilioAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'twilio';

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
      case 'media': {
        const media = object(msg['media'], 'media');
        const sid = streamSid(msg);
        const payload = decodeFrame(media['payload']);
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        return { event, streamSid: sid, track, chunk: count(media, 'chunk', 'media'), timestamp: count(media, 'timestamp', 'media'), payload };
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
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit)) reject(ErrorCodes.BAD_MESSAGE, 'dtmf.digit must be one of 0-9 * # A-D');
        return { event, streamSid: sid, track: typeof dtmf['track'] === 'string' ? dtmf['track'] : 'inbound_track', digit };
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
        // Never String() an arbitrary value: a deeply nested array overflows the stack doing it.
        reject(ErrorCodes.UNKNOWN_EVENT, `unknown event ${typeof event === 'string' ? JSON.stringify(event.slice(0, 64)) : `of type ${Array.isArray(event) ? 'array' : typeof event}`}`);
    }
  }

  mediaWire(streamSid: string): { prefix: string; suffix: string } {
    return { prefix: `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"`, suffix: '"}}' };
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
}
