/** WAV files built field by field, so every test states exactly which bytes it feeds in. */
export const PCM_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** One chunk: id, size (the real one unless `declared` says otherwise), body, pad byte if odd. */
export function chunk(id: string, body: Uint8Array | number[], declared?: number): Uint8Array {
  const b = Uint8Array.from(body);
  const out = new Uint8Array(8 + b.length + (b.length & 1));
  out.set(ascii(id), 0);
  new DataView(out.buffer).setUint32(4, declared ?? b.length, true);
  out.set(b, 8);
  return out;
}

export interface FmtFields {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  /** For WAVE_FORMAT_EXTENSIBLE: the code in the SubFormat GUID, or a whole foreign GUID. */
  subFormat?: number | number[];
}

export function fmt(f: FmtFields = {}): Uint8Array {
  const format = f.format ?? 1;
  const channels = f.channels ?? 1;
  const rate = f.rate ?? 8000;
  const bits = f.bits ?? 16;
  const blockAlign = f.blockAlign ?? (channels * bits) / 8;
  const body = new Uint8Array(format === 0xfffe ? 40 : 16);
  const v = new DataView(body.buffer);
  v.setUint16(0, format, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, bits, true);
  if (format === 0xfffe) {
    v.setUint16(16, 22, true); // cbSize
    v.setUint16(18, bits, true); // validBitsPerSample
    v.setUint32(20, channels === 2 ? 3 : 4, true); // channelMask: FL|FR or FC
    const sub = f.subFormat ?? 1;
    if (typeof sub === 'number') {
      v.setUint16(24, sub, true);
      body.set(PCM_GUID_TAIL, 26);
    } else {
      body.set(sub, 24);
    }
  }
  return chunk('fmt ', body);
}

export function s16le(samples: number[]): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const v = new DataView(out.buffer);
  samples.forEach((s, i) => v.setInt16(i * 2, s, true));
  return out;
}

export function wav(chunks: Uint8Array[], magic = 'RIFF', form = 'WAVE'): Uint8Array {
  const total = 12 + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(ascii(magic), 0);
  new DataView(out.buffer).setUint32(4, total - 8, true);
  out.set(ascii(form), 8);
  let off = 12;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
