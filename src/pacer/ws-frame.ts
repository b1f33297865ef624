/**
 * A WebSocket message as the pacer hands it back: one whole frame (RFC 6455 §5.2), FIN set, from
 * the server, so unmasked, and uncompressed (ptime's servers turn permessage-deflate off). The
 * thread that owns the socket writes it as it is, one write per message, instead of having `ws`
 * frame it again per message on that thread.
 */
const FIN = 0x80;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;

/** Header bytes in front of a payload of `len` bytes. */
export function wsHeaderBytes(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/** Write the header of a text (or binary) frame of `len` payload bytes at `at`; returns where the payload goes. */
export function writeWsHeader(out: Uint8Array, at: number, binary: boolean, len: number): number {
  out[at] = FIN | (binary ? OP_BINARY : OP_TEXT);
  if (len < 126) {
    out[at + 1] = len;
    return at + 2;
  }
  if (len < 65536) {
    out[at + 1] = 126;
    out[at + 2] = len >>> 8;
    out[at + 3] = len & 0xff;
    return at + 4;
  }
  // Only a batching carrier's largest messages (base64 of up to 64 KB of audio) get here.
  out[at + 1] = 127;
  out[at + 2] = 0;
  out[at + 3] = 0;
  out[at + 4] = 0;
  out[at + 5] = 0;
  out[at + 6] = (len >>> 24) & 0xff;
  out[at + 7] = (len >>> 16) & 0xff;
  out[at + 8] = (len >>> 8) & 0xff;
  out[at + 9] = len & 0xff;
  return at + 10;
}

/** The message inside a frame built by writeWsHeader (a view, no copy). */
export function wsPayload(frame: Uint8Array): Buffer {
  const len7 = frame[1]! & 0x7f;
  const at = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  return Buffer.from(frame.buffer, frame.byteOffset + at, frame.byteLength - at);
}
