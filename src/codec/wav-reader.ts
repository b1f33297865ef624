/**
 * RIFF/WAVE → mono PCM16, for prompts and hold music loaded from disk. Only 16-bit PCM is read:
 * anything else is refused with a message saying what the file is, because converting float or
 * companded audio here would hide a mistake that `ffmpeg -c:a pcm_s16le` fixes once, offline.
 */
import { open } from 'node:fs/promises';
import { ErrorCodes, PtimeError } from '../errors.js';
import { checkRate } from './sample-rates.js';
import { describe } from './audio-input.js';

export interface WavAudio {
  /** Mono samples (stereo files are downmixed), in a fresh buffer of their own. */
  samples: Int16Array;
  sampleRate: number;
  /** Channels in the file (1 or 2); `samples` is always mono. */
  channels: number;
  /** samples.length / sampleRate in ms, not rounded (22050 Hz gives fractions). */
  durationMs: number;
}

/**
 * The biggest WAV accepted: 128 MiB is ~23 minutes of 48 kHz stereo. A bigger file is not a
 * prompt, and refusing it up front beats holding it all in memory to find that out. It matches
 * MAX_CODEC_SAMPLES (2^26): a mono file this size is as much as one codec call converts.
 */
export const MAX_WAV_BYTES = 128 * 1024 * 1024;

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
const FMT_MIN_BYTES = 16;
/** 16 base bytes + cbSize (2) + validBits (2) + channelMask (4) + SubFormat GUID (16). */
const FMT_EXTENSIBLE_BYTES = 40;
/**
 * KSDATAFORMAT_SUBTYPE_xxx GUIDs are the format code in the first two bytes followed by this
 * fixed tail (…-0000-0010-8000-00AA00389B71), so a SubFormat maps back to an audioFormat code.
 */
const SUBFORMAT_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** 0xFFFFFFFF is what streaming writers leave when they could not seek back to fill it in. */
const SIZE_UNKNOWN = 0xffffffff;

const FORMAT_NAMES: ReadonlyMap<number, string> = new Map([
  [2, 'Microsoft ADPCM'],
  [3, 'IEEE float'],
  [6, 'A-law'],
  [7, 'mu-law'],
  [0x11, 'IMA ADPCM'],
  [0x31, 'GSM 6.10'],
  [0x55, 'MP3'],
]);

interface Fmt {
  channels: number;
  sampleRate: number;
  blockAlign: number;
}

/**
 * Parses a whole WAV file held in memory. Pure: no I/O, `bytes` is never modified or aliased,
 * and `what` names the input in error messages (readWavFile passes the path).
 */
export function parseWav(bytes: Uint8Array, what = 'WAV data'): WavAudio {
  if (!(bytes instanceof Uint8Array)) {
    throw invalid(`${what} must be a Uint8Array (or Buffer), got ${describe(bytes)}`);
  }
  if (bytes.byteLength > MAX_WAV_BYTES) throw tooBig(bytes.byteLength, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkRiffHeader(bytes, what);

  let fmt: Fmt | undefined;
  let dataStart = -1;
  let dataBytes = 0;
  let dataRunsToEnd = false;
  // Why the scan stopped early, kept so a "no data chunk" error can say the file was cut short.
  let truncation = '';
  // The RIFF size field is not trusted: streamed files leave it 0 or 0xFFFFFFFF, and some
  // editors forget to update it, so the chunks are walked to the real end of the bytes.
  let off = RIFF_HEADER_BYTES;
  while (off + CHUNK_HEADER_BYTES <= bytes.byteLength) {
    const id = fourcc(bytes, off);
    const size = view.getUint32(off + 4, true);
    const body = off + CHUNK_HEADER_BYTES;
    const present = bytes.byteLength - body;
    if (id === 'data') {
      if (dataStart < 0) {
        dataStart = body;
        // 0 is also left by streaming writers; a real empty chunk then has nothing after it and
        // is reported as empty below, while a streamed one holds the rest of the file.
        dataRunsToEnd = size === SIZE_UNKNOWN || size === 0 || size > present;
        dataBytes = dataRunsToEnd ? present : size;
        // Nothing after a chunk of unknown length can be located, so the walk ends here.
        if (dataRunsToEnd) break;
      }
    } else if (id === 'fmt ') {
      if (size > present) {
        throw invalid(`${what}: truncated header: fmt chunk declares ${size} bytes but only ${present} are present`);
      }
      // The first fmt wins; a second one is malformed, and ignoring it keeps decoding stable.
      fmt ??= parseFmt(bytes, view, body, size, what);
    } else if (size > present) {
      // A trailing chunk cut short (often LIST metadata) does not matter once both are found.
      truncation = ` (the file ends inside chunk ${quote(id)} at byte ${off}, which declares ${size} bytes but has ${present})`;
      break;
    }
    // Chunks are word-aligned: an odd-sized body is followed by one pad byte not in its size.
    off = body + size + (size & 1);
  }
  if (truncation === '' && off < bytes.byteLength && off + CHUNK_HEADER_BYTES > bytes.byteLength) {
    truncation = ` (the file ends inside a chunk header at byte ${off})`;
  }

  if (fmt === undefined) {
    if (dataRunsToEnd) {
      throw invalid(
        `${what}: no fmt chunk before the data chunk, whose size is unknown or past the end of the file, ` +
          'so a fmt chunk after it cannot be found',
      );
    }
    throw invalid(`${what}: no fmt chunk found${truncation}`);
  }
  if (dataStart < 0) throw invalid(`${what}: no data chunk found${truncation}`);

  // A trailing partial frame (a clamped streamed chunk, or a writer that miscounted) is dropped:
  // decoding it would need bytes that are not there.
  const frames = Math.floor(dataBytes / fmt.blockAlign);
  if (frames === 0) {
    throw invalid(`${what}: the data chunk holds no samples (${dataBytes} bytes, ${fmt.blockAlign} per frame)`);
  }
  const samples = fmt.channels === 1 ? readMono(view, dataStart, frames) : readStereoAsMono(view, dataStart, frames);
  return {
    samples,
    sampleRate: fmt.sampleRate,
    channels: fmt.channels,
    durationMs: (frames * 1000) / fmt.sampleRate,
  };
}

/** Reads and parses a WAV file; the size cap is checked before the file is read. */
export async function readWavFile(path: string): Promise<WavAudio> {
  const what = `WAV file ${path}`;
  // One handle for stat and read, so the size checked is the size of the file that is read.
  const handle = await open(path, 'r');
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw invalid(`${what} is a directory`);
    if (stats.size > MAX_WAV_BYTES) throw tooBig(stats.size, what);
    const bytes = await handle.readFile();
    return parseWav(bytes, what);
  } finally {
    await handle.close();
  }
}

function checkRiffHeader(bytes: Uint8Array, what: string): void {
  if (bytes.byteLength >= 4) {
    const magic = fourcc(bytes, 0);
    if (magic === 'RF64' || magic === 'BW64') {
      throw invalid(`${what}: ${magic} (64-bit RIFF) WAV files are not supported; convert to a plain RIFF/WAVE file`);
    }
    if (magic === 'RIFX') {
      throw invalid(`${what}: RIFX (big-endian RIFF) WAV files are not supported; convert to little-endian RIFF/WAVE`);
    }
    if (magic !== 'RIFF') throw invalid(`${what} is not a RIFF/WAVE file (starts with ${quote(magic)})`);
  }
  if (bytes.byteLength < RIFF_HEADER_BYTES) {
    throw invalid(
      `${what}: truncated header: ${bytes.byteLength} bytes, a RIFF/WAVE header needs ${RIFF_HEADER_BYTES}`,
    );
  }
  const form = fourcc(bytes, 8);
  if (form !== 'WAVE') throw invalid(`${what} is not a RIFF/WAVE file (RIFF form type ${quote(form)})`);
}

function parseFmt(bytes: Uint8Array, view: DataView, at: number, size: number, what: string): Fmt {
  if (size < FMT_MIN_BYTES) {
    throw invalid(`${what}: truncated header: fmt chunk is ${size} bytes, needs at least ${FMT_MIN_BYTES}`);
  }
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (format === WAVE_FORMAT_EXTENSIBLE) {
    if (size < FMT_EXTENSIBLE_BYTES) {
      throw invalid(
        `${what}: truncated header: WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, needs ${FMT_EXTENSIBLE_BYTES}`,
      );
    }
    const guid = at + 24;
    if (!SUBFORMAT_TAIL.every((b, i) => bytes[guid + 2 + i] === b)) {
      throw invalid(
        `${what}: WAVE_FORMAT_EXTENSIBLE with unknown SubFormat GUID ${guidText(bytes, guid)}; convert to 16-bit PCM`,
      );
    }
    // Same codes as plain audioFormat, so float or A-law in an extensible wrapper reads alike.
    format = view.getUint16(guid, true);
  }
  if (format !== WAVE_FORMAT_PCM) {
    const name = FORMAT_NAMES.get(format);
    throw invalid(
      `${what}: audioFormat ${format}${name === undefined ? '' : ` (${name})`} is not supported; convert to 16-bit PCM`,
    );
  }
  if (channels !== 1 && channels !== 2) {
    throw invalid(`${what}: ${channels} channels is not supported; need 1 (mono) or 2 (stereo)`);
  }
  if (bits !== 16) {
    throw invalid(`${what}: ${bits} bits per sample is not supported; convert to 16-bit PCM`);
  }
  checkRate(sampleRate, `${what} sample rate`);
  // blockAlign sets the frame stride; a wrong one would misread every sample after the first.
  // byteRate is not checked: it is derived, unused here, and some writers get it wrong.
  if (blockAlign !== channels * 2) {
    throw invalid(
      `${what}: fmt blockAlign is ${blockAlign}, but ${channels} channel(s) of 16 bits need ${channels * 2}`,
    );
  }
  return { channels, sampleRate, blockAlign };
}

// DataView reads work at any byte offset and on any host byte order, and the output is a new
// Int16Array, so it is aligned and never aliases the caller's (possibly pooled) Buffer.
function readMono(view: DataView, at: number, frames: number): Int16Array {
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) out[i] = view.getInt16(at + i * 2, true);
  return out;
}

/**
 * (L + R) / 2 rounded to nearest, ties away from zero so the rounding adds no DC offset. The
 * result is always in int16 range: the extremes are (−32768·2)/2 and (32767·2)/2.
 */
function readStereoAsMono(view: DataView, at: number, frames: number): Int16Array {
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    const p = at + i * 4;
    const sum = view.getInt16(p, true) + view.getInt16(p + 2, true);
    out[i] = sum >= 0 ? (sum + 1) >> 1 : -((1 - sum) >> 1);
  }
  return out;
}

function invalid(message: string): PtimeError {
  return new PtimeError(ErrorCodes.INVALID_AUDIO, message);
}

function tooBig(size: number, what: string): PtimeError {
  return invalid(`${what} is ${size} bytes, over MAX_WAV_BYTES (${MAX_WAV_BYTES}); split or downsample it`);
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}

/** A four-character code as text when printable, as hex otherwise (binary junk, ID3 tags…). */
function quote(id: string): string {
  if (/^[\x20-\x7e]{4}$/.test(id)) return `"${id}"`;
  let hex = '0x';
  for (let i = 0; i < id.length; i++) hex += id.charCodeAt(i).toString(16).padStart(2, '0');
  return hex;
}

function guidText(bytes: Uint8Array, at: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 16);
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  let tail = '';
  for (let i = 8; i < 16; i++) tail += hex(view.getUint8(i), 2) + (i === 9 ? '-' : '');
  return `${hex(view.getUint32(0, true), 8)}-${hex(view.getUint16(4, true), 4)}-${hex(view.getUint16(6, true), 4)}-${tail}`;
}
