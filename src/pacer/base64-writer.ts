const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 0x3d; // '='

/** Base64 length of n bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/**
 * Base64-encode `src[from..from+len)` straight into `dst` at `at`, returning the end offset.
 * Hand-written because it runs per frame on the pacer thread: Buffer#toString('base64') would
 * allocate a string and then need encoding back to bytes.
 */
export function writeBase64(src: Uint8Array, from: number, len: number, dst: Uint8Array, at: number): number {
  const end = from + len - (len % 3);
  let o = at;
  let i = from;
  for (; i < end; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    dst[o++] = CODES[n >>> 18]!;
    dst[o++] = CODES[(n >>> 12) & 63]!;
    dst[o++] = CODES[(n >>> 6) & 63]!;
    dst[o++] = CODES[n & 63]!;
  }
  const rest = len % 3;
  if (rest === 1) {
    const n = src[i]! << 16;
    dst[o++] = CODES[n >>> 18]!;
    dst[o++] = CODES[(n >>> 12) & 63]!;
    dst[o++] = PAD;
    dst[o++] = PAD;
  } else if (rest === 2) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8);
    dst[o++] = CODES[n >>> 18]!;
    dst[o++] = CODES[(n >>> 12) & 63]!;
    dst[o++] = CODES[(n >>> 6) & 63]!;
    dst[o++] = PAD;
  }
  return o;
}
