import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, StartInfo } from './carrier-adapter.js';
import { count, decodeFrame, DTMF_DIGIT, object, parseJson, reject, text, unknownEvent, type Json } from './json-fields.js';

/** Mark names are ours, echoed back: the protocol cap is the largest maxMarkNameBytes allowed. */
export const MAX_MARK_NAME_CHARS = 4096;

function streamSid(o: Json): string {
  const v = o['streamSid'];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.STREAM_SID, 'message has no streamSid');
  return v;
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
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'media': {
        const media = object(msg['media'], 'media');
        const sid = streamSid(msg);
        const payload = decodeFrame(media['payload'], 'mu-law');
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
        unknownEvent(event);
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
