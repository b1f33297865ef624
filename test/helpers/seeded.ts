/** mulberry32: a tiny seeded PRNG, so every randomised test replays exactly. */
export { seededRandom as seeded } from '../../src/loadtest/seeded-random.js';

/** A 160-byte frame whose every byte is derived from `seq`: any torn or mixed copy shows. */
export function stampedFrame(seq: number, out = new Uint8Array(160)): Uint8Array {
  new DataView(out.buffer, out.byteOffset).setUint32(0, seq, true);
  for (let j = 4; j < out.length; j++) out[j] = (seq * 31 + j * 7) & 0xff;
  return out;
}

/** The seq of a stamped frame, or -1 if its bytes do not match the stamp. */
export function readStamp(bytes: Uint8Array, offset = 0, length = 160): number {
  const seq = new DataView(bytes.buffer, bytes.byteOffset + offset).getUint32(0, true);
  for (let j = 4; j < length; j++) if (bytes[offset + j] !== ((seq * 31 + j * 7) & 0xff)) return -1;
  return seq;
}
