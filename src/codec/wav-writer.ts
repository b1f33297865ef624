/**
 * The 44-byte header of a 16-bit PCM WAV file, for a file written as a stream: the header goes
 * first with the sizes known so far and is rewritten as data is appended (the two size words at
 * RIFF_SIZE_OFFSET and DATA_SIZE_OFFSET), so the file is valid up to its last write even if the
 * writer never gets to close it.
 */
export const WAV_HEADER_BYTES = 44;
/** Where the RIFF chunk's size (file bytes − 8) lives. */
export const RIFF_SIZE_OFFSET = 4;
/** Where the data chunk's size lives. */
export const DATA_SIZE_OFFSET = 40;
/** The largest data chunk a WAV's 32-bit size words can describe (an even number of bytes). */
export const MAX_WAV_DATA_BYTES = 0xffff_fffe - WAV_HEADER_BYTES;

export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES);
  const v = new DataView(out.buffer);
  const blockAlign = channels * 2;
  out.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  v.setUint32(RIFF_SIZE_OFFSET, WAV_HEADER_BYTES - 8 + dataBytes, true);
  out.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  out.set([0x66, 0x6d, 0x74, 0x20], 12); // 'fmt '
  v.setUint32(16, 16, true); // PCM fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, 16, true);
  out.set([0x64, 0x61, 0x74, 0x61], 36); // data
  v.setUint32(DATA_SIZE_OFFSET, dataBytes, true);
  return out;
}

/** For a stream, where the header cannot be rewritten: both sizes 0xFFFFFFFF (unknown, read to the end). */
export function wavStreamHeader(sampleRate: number, channels: number): Uint8Array {
  const out = wavHeader(sampleRate, channels, 0);
  const v = new DataView(out.buffer);
  v.setUint32(RIFF_SIZE_OFFSET, 0xffff_ffff, true);
  v.setUint32(DATA_SIZE_OFFSET, 0xffff_ffff, true);
  return out;
}

/** The two size words for `dataBytes` of audio, as little-endian u32s (RIFF size, data size). */
export function wavSizes(dataBytes: number): { riff: Uint8Array; data: Uint8Array } {
  const riff = new Uint8Array(4);
  const data = new Uint8Array(4);
  new DataView(riff.buffer).setUint32(0, WAV_HEADER_BYTES - 8 + dataBytes, true);
  new DataView(data.buffer).setUint32(0, dataBytes, true);
  return { riff, data };
}
