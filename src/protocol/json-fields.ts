import { ErrorCodes, ProtocolRejection, type ErrorCode } from '../errors.js';
import { FRAME_BYTES } from '../ring/lane-layout.js';

/**
 * Field readers every JSON carrier dialect shares: each either returns the value or throws a
 * ProtocolRejection whose code and message name the field and the rule it broke.
 */
export type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
export const DTMF_DIGIT = /^[0-9*#A-D]$/;
/** Ids carriers send are short; anything longer is not a carrier's. */
export const MAX_ID_CHARS = 128;

export function reject(code: ErrorCode, message: string): never {
  throw new ProtocolRejection(code, message);
}

export function object(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) reject(ErrorCodes.BAD_MESSAGE, `${where} must be an object`);
  return v as Json;
}

export function text(o: Json, key: string, where: string, maxChars = MAX_ID_CHARS): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-empty string`);
  if (v.length > maxChars) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} is longer than ${maxChars} characters`);
  return v;
}

/** Carriers send number-like fields as strings; accept either, reject anything else. */
export function count(o: Json, key: string, where: string): number {
  const v = o[key];
  const n = typeof v === 'string' && v.length > 0 && v.length < 16 ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) reject(ErrorCodes.BAD_MESSAGE, `${where}.${key} must be a non-negative number`);
  return n;
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

/** One 20 ms frame of 8 kHz G.711, base64: the size is checked from the text before decoding. */
export function decodeFrame(payload: unknown, codec: string): Buffer {
  if (typeof payload !== 'string') reject(ErrorCodes.BAD_PAYLOAD, 'media.payload must be a base64 string');
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) reject(ErrorCodes.BAD_PAYLOAD, 'media.payload is not base64');
  // 160, 161 and 162 bytes all encode to 216 characters: the padding tells them apart.
  const bytes = (payload.length / 4) * 3 - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (bytes !== FRAME_BYTES) reject(ErrorCodes.PAYLOAD_SIZE, `media.payload must be ${FRAME_BYTES} bytes (20 ms of 8 kHz ${codec}), got ${bytes}`);
  return Buffer.from(payload, 'base64');
}

/** An unknown event, named without ever stringifying an arbitrary value (a deep array overflows the stack). */
export function unknownEvent(event: unknown): never {
  reject(ErrorCodes.UNKNOWN_EVENT, `unknown event ${typeof event === 'string' ? JSON.stringify(event.slice(0, 64)) : `of type ${Array.isArray(event) ? 'array' : typeof event}`}`);
}
