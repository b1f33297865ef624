/**
 * Numbered inbound frames, so an echo says which frame it is: a 160-byte mu-law frame whose first
 * four bytes hold the chunk number (little-endian) and the rest silence. Base64 turns each 3 bytes
 * into 4 characters, so the first 6 bytes (the stamp and two of silence) are the first 8
 * characters and the rest of the payload's base64 is the same for every frame.
 */
const STAMP_HEAD_BYTES = 6;
const FRAME_TAIL_B64 = Buffer.alloc(160 - STAMP_HEAD_BYTES, 0xff).toString('base64');
const PAYLOAD_KEY = Buffer.from('"payload":"');
const head = Buffer.alloc(STAMP_HEAD_BYTES, 0xff);

/** The base64 payload of frame `chunk` (0 to 2^32 − 1). */
export function stampedPayloadB64(chunk: number): string {
  head.writeUInt32LE(chunk >>> 0, 0);
  return head.toString('base64') + FRAME_TAIL_B64;
}

/** The chunk number stamped in a JSON media message's payload, or -1 when it carries none. */
export function payloadStamp(message: Buffer): number {
  const at = message.indexOf(PAYLOAD_KEY);
  if (at < 0) return -1;
  const from = at + PAYLOAD_KEY.length;
  if (message.length < from + 8) return -1;
  const bytes = Buffer.from(message.toString('latin1', from, from + 8), 'base64');
  return bytes.length === STAMP_HEAD_BYTES && bytes[4] === 0xff && bytes[5] === 0xff ? bytes.readUInt32LE(0) : -1;
}
