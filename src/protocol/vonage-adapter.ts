import { randomUUID } from 'node:crypto';
import { audioFormat, type AudioFormat } from '../codec/audio-format.js';
import { ErrorCodes } from '../errors.js';
import type { CarrierAdapter, CarrierName, InboundEvent, MediaWire, StartInfo } from './carrier-adapter.js';
import { binaryFrame, BINARY_WIRE, object, parseJson, reject, text, unknownEvent, type Json } from './json-fields.js';
import { DTMF_DIGIT, MAX_ID_CHARS, MAX_MARK_NAME_CHARS } from './wire-limits.js';

/** Vonage caps an NCCO's `headers` at 512 bytes; the flattened fields of a connected event stay near that. */
const MAX_HEADER_FIELDS = 32;

/**
 * Vonage Voice API WebSockets: audio is binary 16-bit little-endian PCM, exactly one 20 ms frame
 * per message both ways (320/640/960 bytes at 8/16/24 kHz; Vonage drops a call sent any other
 * size). Text messages are JSON control. The first, `websocket:connected`, carries the format in
 * `content-type` and the NCCO's `headers` flattened into it: that is the stream's start. Vonage
 * names no stream on the socket, so ptime makes a stream id (a UUID); a header named `uuid` or
 * `call_uuid`, if the NCCO sets one, becomes the callSid. A mark is `notify`, echoed as
 * `websocket:notify` once the audio before it has played; the clear is `{"action":"clear"}`,
 * acknowledged by `websocket:cleared`. Vonage sends no stop: the socket's close ends the stream.
 */
export class VonageAdapter implements CarrierAdapter {
  readonly name: CarrierName = 'vonage';
  readonly binaryMedia = true;
  /** Marks are acknowledged once the audio before them has played (see README: what the caller heard). */
  readonly playbackAck = true;
  /** Not documented: notifies already sent settle 'cleared' at the clear. */
  readonly clearEchoesMarks = false;

  parse(raw: string): InboundEvent {
    const msg = parseJson(raw);
    const event = msg['event'];
    switch (event) {
      case 'websocket:connected':
        return this.parseStart(msg);
      case 'websocket:dtmf': {
        const digit = msg['digit'];
        if (typeof digit !== 'string' || !DTMF_DIGIT.test(digit))
          reject(ErrorCodes.BAD_MESSAGE, 'digit must be one of 0-9 * # A-D');
        return { event: 'dtmf', streamSid: '', track: 'inbound', digit };
      }
      case 'websocket:notify': {
        const payload = object(msg['payload'], 'payload');
        return { event: 'mark', streamSid: '', name: text(payload, 'name', 'payload', MAX_MARK_NAME_CHARS) };
      }
      case 'websocket:cleared':
        return { event: 'ack', what: 'websocket:cleared' };
      default:
        unknownEvent(event);
    }
  }

  private parseStart(msg: Json): InboundEvent {
    const contentType = msg['content-type'];
    const m = typeof contentType === 'string' ? /^audio\/l16;\s*rate=(\d+)$/i.exec(contentType) : null;
    const rate = m ? Number(m[1]) : NaN;
    if (rate !== 8000 && rate !== 16000 && rate !== 24000) {
      reject(
        ErrorCodes.MEDIA_FORMAT,
        `unsupported content-type ${JSON.stringify(String(contentType).slice(0, 64))}; ptime speaks audio/l16;rate=8000, 16000 or 24000`,
      );
    }
    const customParameters: Record<string, string> = {};
    let fields = 0;
    for (const [k, v] of Object.entries(msg)) {
      if (k === 'event' || k === 'content-type') continue;
      if (++fields > MAX_HEADER_FIELDS)
        reject(ErrorCodes.CUSTOM_PARAMETERS, `websocket:connected has more than ${MAX_HEADER_FIELDS} header fields`);
      // Headers are strings in the NCCO; anything else is passed as its JSON text.
      customParameters[k] = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
    }
    const uuid = customParameters['uuid'] ?? customParameters['call_uuid'] ?? '';
    const info: StartInfo = {
      carrier: this.name,
      raw: msg,
      streamSid: randomUUID(),
      accountSid: '',
      callSid: uuid.length <= MAX_ID_CHARS ? uuid : '',
      tracks: ['inbound'],
      customParameters,
      format: audioFormat('l16', rate),
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
    return JSON.stringify({ action: 'notify', payload: { name } });
  }

  clearMessage(): string {
    return '{"action":"clear"}';
  }
}
