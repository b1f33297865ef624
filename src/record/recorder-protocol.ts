import type { WireEncoding } from '../codec/audio-format.js';

/**
 * Messages between main and the recorder thread (workers/recorder.ts). Positions are sample
 * indices in the recording's timeline (0 = when the recording started), at the call's rate.
 *
 * `segs` holds four int32 words per segment: channel (0 left = the caller, 1 right = the bot),
 * the position of its first sample, and its byte offset and length in `bytes` (wire format).
 */
export type RecorderCommand =
  /** `path` null: the file's bytes come back as 'data' replies (the application's stream). */
  | { op: 'open'; id: number; path: string | null; encoding: WireEncoding; sampleRate: number }
  | { op: 'audio'; id: number; bytes: Uint8Array; segs: Int32Array; safe: number }
  | { op: 'close'; id: number; end: number };

export type RecorderReply =
  | { op: 'failed'; id: number; message: string }
  | { op: 'data'; id: number; bytes: Uint8Array }
  | { op: 'done'; id: number; bytes: number; durationMs: number };

export const SEG_WORDS = 4;
export const CHANNEL_CALLER = 0;
export const CHANNEL_BOT = 1;

/** Audio may be placed at most this far ahead of what is written (a burst of the caller's audio, a batch). */
export const MAX_AHEAD_MS = 10_000;
