import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { audioFormat, decodeWire, type AudioFormat } from '../codec/audio-format.js';
import {
  DATA_SIZE_OFFSET,
  MAX_WAV_DATA_BYTES,
  RIFF_SIZE_OFFSET,
  WAV_HEADER_BYTES,
  wavHeader,
  wavSizes,
  wavStreamHeader,
} from '../codec/wav-writer.js';
import { MAX_AHEAD_MS, SEG_WORDS, type RecorderCommand, type RecorderReply } from './recorder-protocol.js';
import { StereoWindow } from './stereo-window.js';

interface OpenRecording {
  readonly format: AudioFormat;
  /** The file, or null: the bytes go back to main for the application's stream. */
  readonly fd: number | null;
  readonly window: StereoWindow;
  /** The most samples taken from the window at once (its reach), so a long silence costs no big buffer. */
  readonly step: number;
  dataBytes: number;
}

/**
 * The recorder thread's work, free of the worker wiring: one WAV file per recording, written as
 * the audio comes (decode, interleave, append, then rewrite the header's two sizes so the file is
 * valid up to its last write). Synchronous file calls: this thread does nothing else, and an
 * error (EACCES, ENOSPC) then belongs to the recording that caused it, which is failed alone.
 */
export class RecorderThread {
  private readonly open = new Map<number, OpenRecording>();

  constructor(private readonly reply: (msg: RecorderReply) => void) {}

  handle(cmd: RecorderCommand): void {
    if (cmd.op === 'open' && cmd.path === null) {
      this.startStream(cmd.id, audioFormat(cmd.encoding, cmd.sampleRate));
      return;
    }
    if (cmd.op === 'open') this.start(cmd.id, cmd.path!, audioFormat(cmd.encoding, cmd.sampleRate));
    else if (cmd.op === 'audio') this.audio(cmd.id, cmd.bytes, cmd.segs, cmd.safe);
    else this.finish(cmd.id, cmd.end);
  }

  private start(id: number, path: string, format: AudioFormat): void {
    let fd = -1;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, 'w');
      writeSync(fd, wavHeader(format.sampleRate, 2, 0));
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      this.reply({ op: 'failed', id, message: reasonOf(err) });
      return;
    }
    this.keep(id, format, fd);
  }

  /** A recording whose bytes go to the application's stream: the header first, with sizes unknown. */
  private startStream(id: number, format: AudioFormat): void {
    this.reply({ op: 'data', id, bytes: wavStreamHeader(format.sampleRate, 2) });
    this.keep(id, format, null);
  }

  private keep(id: number, format: AudioFormat, fd: number | null): void {
    const step = (MAX_AHEAD_MS * format.sampleRate) / 1000;
    this.open.set(id, { format, fd, window: new StereoWindow(step), step, dataBytes: 0 });
  }

  private audio(id: number, bytes: Uint8Array, segs: Int32Array, safe: number): void {
    const rec = this.open.get(id);
    if (!rec) return; // failed earlier: its audio is let go
    for (let i = 0; i + SEG_WORDS <= segs.length; i += SEG_WORDS) {
      const offset = segs[i + 2]!;
      const wire = bytes.subarray(offset, offset + segs[i + 3]!);
      rec.window.put(segs[i]!, segs[i + 1]!, decodeWire(wire, rec.format));
    }
    this.writeUpTo(id, rec, safe);
  }

  /** Write the window out up to sample `upTo`, a step at a time; false (the recording failed) on an error. */
  private writeUpTo(id: number, rec: OpenRecording, upTo: number): boolean {
    while (rec.window.base < upTo) {
      if (!this.append(id, rec, rec.window.take(Math.min(upTo, rec.window.base + rec.step)))) return false;
    }
    return true;
  }

  private finish(id: number, end: number): void {
    const rec = this.open.get(id);
    if (!rec) return;
    if (!this.writeUpTo(id, rec, end)) return;
    this.open.delete(id);
    try {
      if (rec.fd !== null) closeSync(rec.fd);
    } catch (err) {
      this.reply({ op: 'failed', id, message: reasonOf(err) });
      return;
    }
    const durationMs = Math.round((rec.dataBytes / 4 / rec.format.sampleRate) * 1000);
    this.reply({ op: 'done', id, bytes: WAV_HEADER_BYTES + rec.dataBytes, durationMs });
  }

  /** Append PCM and bring the header up to date; false (and the recording failed) on an error. */
  private append(id: number, rec: OpenRecording, pcm: Uint8Array): boolean {
    const room = MAX_WAV_DATA_BYTES - rec.dataBytes;
    const data = pcm.length > room ? pcm.subarray(0, room - (room % 4)) : pcm;
    if (data.length === 0) return true;
    if (rec.fd === null) {
      rec.dataBytes += data.length;
      this.reply({ op: 'data', id, bytes: data });
      return true;
    }
    try {
      writeSync(rec.fd, data, 0, data.length, WAV_HEADER_BYTES + rec.dataBytes);
      rec.dataBytes += data.length;
      const sizes = wavSizes(rec.dataBytes);
      writeSync(rec.fd, sizes.riff, 0, 4, RIFF_SIZE_OFFSET);
      writeSync(rec.fd, sizes.data, 0, 4, DATA_SIZE_OFFSET);
      return true;
    } catch (err) {
      this.open.delete(id);
      try {
        closeSync(rec.fd);
      } catch {
        // the write's error is the one worth reporting
      }
      this.reply({ op: 'failed', id, message: reasonOf(err) });
      return false;
    }
  }

  /** Every recording still open, closed with what it has (the engine is closing). */
  closeAll(): void {
    for (const [id, rec] of [...this.open]) this.finish(id, rec.window.base);
  }
}

/** "the disk is full (ENOSPC)": a system error's reason in words, with its code. */
function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is not a directory',
    EEXIST: 'a part of the path exists and is not a directory',
    EISDIR: 'the path is a directory',
    EROFS: 'read-only file system',
    ENOENT: 'no such file or directory',
  };
  if (typeof e?.code === 'string') return `${words[e.code] ?? e.message} (${e.code})`;
  return err instanceof Error ? err.message : String(err);
}
