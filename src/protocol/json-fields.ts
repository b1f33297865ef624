import { ErrorCodes, ProtocolRejection, type ErrorCode } from '../errors.js';
import { formatName, MAX_FRAME_BYTES, type AudioFormat } from '../codec/audio-format.js';
import type { InboundEvent, MediaWire } from './carrier-adapter.js';
import { MAX_ID_CHARS } from './wire-limits.js';

/**
 * Field readers every JSON carrier dialect shares: each either returns the value or throws a
 * ProtocolRejection whose code and message name the field and the rule it broke.
 */
export type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function reject(code: ErrorCode, message: string): never {
  throw new ProtocolRejection(code, message);
}

export function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    reject(ErrorCodes.BAD_MESSAGE, `${where} must be an object`);
  return v as Json;
}

export function text(o: Json, key: string, where: string, maxChars = MAX_ID_CHARS): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0)
    reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-empty string`);
  if (v.length > maxChars) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} is longer than ${maxChars} characters`);
  return v;
}

/** Carriers send number-like fields as strings; accept either, reject anything else. */
export function nonNegativeNumber(o: Json, key: string, where: string): number {
  const v = o[key];
  const n = typeof v === 'string' && v.length > 0 && v.length < 16 ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
    reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-negative number`);
  return n;
}

/** An id the carrier may omit or garble on an event that does not depend on it: '' then. */
export function optionalText(o: Json, key: string): string {
  const v = o[key];
  return typeof v === 'string' && v.length <= MAX_ID_CHARS ? v : '';
}

/** The stream id under `key`, which every event of that dialect must carry. */
export function requiredStreamId(o: Json, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.STREAM_SID, `message has no ${key}`);
  return v;
}

export function parseJson(raw: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    reject(ErrorCodes.BAD_JSON, 'message is not JSON');
  }
  return object(parsed, 'message');
}

/**
 * One 20 ms frame of the stream's format, base64 (or up to `maxFrames` whole frames, for a carrier
 * that batches them): the size is checked from the text before decoding. Before the start
 * (`format` null) only the largest size of any format is enforced; the stream then refuses the
 * media as not started.
 */
export function decodeFrame(payload: unknown, format: AudioFormat | null, maxFrames = 1): Buffer {
  if (typeof payload !== 'string') reject(ErrorCodes.BAD_PAYLOAD, 'media.payload must be a base64 string');
  const maxBytes = MAX_FRAME_BYTES * maxFrames;
  if (payload.length > Math.ceil(maxBytes / 3) * 4)
    reject(
      ErrorCodes.PAYLOAD_SIZE,
      `media.payload is over ${maxBytes} bytes (${maxFrames} of the largest 20 ms frame)`,
    );
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) reject(ErrorCodes.BAD_PAYLOAD, 'media.payload is not base64');
  // 160, 161 and 162 bytes all encode to 216 characters: the padding tells them apart.
  const bytes = (payload.length / 4) * 3 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  checkFrameBytes(bytes, format, 'media.payload', maxFrames);
  return Buffer.from(payload, 'base64');
}

/** A frame's size against the stream's format (before the start: at most the largest frame). */
export function checkFrameBytes(bytes: number, format: AudioFormat | null, what: string, maxFrames = 1): void {
  if (format === null) {
    if (bytes > MAX_FRAME_BYTES * maxFrames)
      reject(ErrorCodes.PAYLOAD_SIZE, `${what} is ${bytes} bytes, over ${MAX_FRAME_BYTES * maxFrames}`);
    return;
  }
  const frames = bytes / format.frameBytes;
  if (maxFrames === 1 && frames !== 1)
    reject(
      ErrorCodes.PAYLOAD_SIZE,
      `${what} must be ${format.frameBytes} bytes (20 ms of ${formatName(format)}), got ${bytes}`,
    );
  if (!Number.isInteger(frames) || frames < 1 || frames > maxFrames) {
    reject(
      ErrorCodes.PAYLOAD_SIZE,
      `${what} must be 1 to ${maxFrames} whole 20 ms frames of ${formatName(format)} (${format.frameBytes} bytes each), got ${bytes} bytes`,
    );
  }
}

/** Parameters as a string map; a value of another type is refused by name. */
export function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined) return {};
  const params = object(v, where);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(params)) {
    if (typeof val !== 'string') reject(ErrorCodes.BAD_MESSAGE, `${where}.${k} must be a string`);
    out[k] = val;
  }
  return out;
}

/** A binary carrier's audio message: exactly one 20 ms frame of the stream's format, for the socket's own stream. */
export function binaryFrame(data: Buffer, format: AudioFormat | null): InboundEvent {
  checkFrameBytes(data.length, format, 'binary audio message');
  return { event: 'media', streamSid: '', track: 'inbound', chunk: 0, timestamp: 0, payload: data };
}

/** Raw frames in binary messages, one per message (Vonage, Asterisk). */
export const BINARY_WIRE: MediaWire = Object.freeze({ prefix: '', suffix: '', binary: true, framesPerMessage: 1 });

/** For a text-only carrier: a binary message is not part of its protocol. */
export function noBinary(): never {
  reject(ErrorCodes.BINARY_FRAME, 'binary WebSocket frames are not part of the protocol');
}

/** An unknown event, named without ever stringifying an arbitrary value (a deep array overflows the stack). */
export function unknownEvent(event: unknown): never {
  reject(
    ErrorCodes.UNKNOWN_EVENT,
    `unknown event ${typeof event === 'string' ? JSON.stringify(event.slice(0, 64)) : `of type ${Array.isArray(event) ? 'array' : typeof event}`}`,
  );
}
