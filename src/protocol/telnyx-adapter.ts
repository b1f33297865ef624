import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, StartInfo } from './carrier-adapter.js';
import { count, decodeFrame, DTMF_DIGIT, MAX_ID_CHARS, object, parseJson, reject, text, unknownEvent, type Json } from './json-fields.js';
import { MAX_MARK_NAME_CHARS } from './twilio-adapter.js';

function optionalText(o: Json, key: string): string {
  const v = o[key];
  return typeof v === 'string' && v.length <= MAX_ID_CHARS ? v : '';
}

function streamId(o: Json): string {
  const v = o['stream_id'];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.STREAM_SID, 'message has no stream_id');
  return v;
}

/**
 * Telnyx Media Streaming over WebSocket, bidirectional in RTP mode with PCMU at 8 kHz
 * (`stream_bidirectional_mode: "rtp"`, `stream_bidirectional_codec: "PCMU"`): snake_case, the
 * stream named by `stream_id`, counters as strings. Outbound `media`, `mark` and `clear` carry no
 * stream id (one stream per socket). Telnyx does not guarantee inbound order: each media event's
 * `chunk` (a media-only counter) is its `seq`, by which the session reorders.
 */
export class TelnyxAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'telnyx';
  /** Four frames (80 ms): held only while one is missing, so in-order streams wait for nothing. */
  readonly reorderWindow = 4;

  parse(raw: string): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'connected':
        return { event, protocol: 'telnyx', version: optionalText(msg, 'version') };
      case 'start':
        return this.start(msg);
      case 'media': {
        const sid = streamId(msg);
        const media = object(msg['media'], 'media');
        const payload = decodeFrame(media['payload'], 'PCMU');
        const track = typeof media['track'] === 'string' ? media['track'] : 'inbound';
        const chunk = count(media, 'chunk', 'media');
        const timestamp = count(media, 'timestamp', 'media');
        // Ordered by chunk, which counts media only: sequence_number also counts start, DTMF and
        // mark messages, so media alone would show gaps the window waits for in vain.
        return { event, streamSid: sid, track, chunk, timestamp, payload, seq: chunk };
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
        unknownEvent(event);
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
