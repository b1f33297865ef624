/**
 * Shared-memory layout of one call's lane: the single definition both the main thread (producer)
 * and the pacer worker (consumer) import. Offsets are in Int32 words unless named *_BYTES.
 *
 * One lane = one SharedArrayBuffer:
 *
 *   byte 0    +------------- line 0: written by MAIN only -------------------------+
 *             | MAGIC | VERSION | SLOTS | BOUND | WR | GEN | DROPS | OWNER          |
 *             | FRAME_BYTES | PAUSED | TALK_END                                       |
 *   byte 64   +------------- line 1: changed by both, atomically -----------------+
 *             | RD (compareExchange) | ATTN (main: exchange 0→1, pacer: store 0)    |
 *   byte 128  +------------- line 2: written by the PACER only -------------------+
 *             | STATE | - | UNDERRUNS | LATE                                         |
 *   byte 192  +------------- line 3: written by the SENDER only ------------------+
 *             | TX_SENT | TX_SLOW | TX_STALE                                         |
 *   byte 256  +------------- SLOTS slots of slotBytes(FRAME_BYTES) each ------------+
 *             | slot i:  KIND u32 | GEN u32 | VALUE u32 | pad u32 | FRAME_BYTES data  |
 *             +--------------------------------------------------------------------+
 *
 * WR and RD are free-running 32-bit counters; a slot is `counter & (SLOTS - 1)` (SLOTS is a power
 * of two), depth is `(WR - RD) | 0`, so no slot is wasted and no `%` is needed. The three lines
 * are 64 bytes apart so the producer's and consumer's hot words never share a cache line.
 *
 * FRAME_BYTES is the lane's 20 ms frame in its call's wire format (160 for G.711, 320/640/960 for
 * L16 at 8/16/24 kHz), fixed for the lane's life: a call needing another size gets another lane.
 * PAUSED is set by main while the carrier asked us to stop sending (Asterisk MEDIA_XOFF): the
 * pacer sends nothing from the lane, and the ring's drop-oldest bounds what piles up meanwhile.
 *
 * TALK_END is the WR at which the app last ended an utterance (endUtterance, the next
 * beginUtterance, flush). A lane the pacer finds empty with RD there ran out because the talk
 * ended, not because the producer fell behind, so it is not counted as an underrun.
 *
 * KIND is a frame (VALUE = byte length, the lane's FRAME_BYTES) or a mark (VALUE = mark id, the name
 * stays on main). GEN stamps every slot with the lane generation at write time: main bumps the
 * generation on clear() and on lane reuse, and drops any handed-back record whose GEN is stale.
 *
 * OWNER is bumped each time the lane is handed to a new call. The pacer learns a lane's owner
 * (and the wire prefix with that call's streamSid) from its `open` command, which it reads only
 * between steps; before it commits a frame it checks that OWNER still matches, so a lane released
 * and reused in between never carries the next call's audio under the previous call's streamSid.
 *
 * ATTN says "this lane is in the pacer's attention ring" (pacer-layout.ts): main sets it when a
 * parked lane gets audio or the lane is cleared, the pacer resets it when it takes the entry, so
 * a lane is never in the ring twice and the ring cannot overflow.
 *
 * The SENDER is the thread that writes the handed-back frames to the call's socket: main, or the
 * I/O thread with `io: 'worker'`. It counts what it sent and what it did not (a slow peer, a stale
 * generation) here, so main reads a call's figures the same way in both modes.
 *
 * Every counter here is int32 and compared only by difference `(a - b) | 0`, so they wrap freely.
 */

export const LANE_MAGIC = 0x7054_6d65; // "pTme"
export const LANE_VERSION = 5;

/** 20 ms of G.711 at 8 kHz: Twilio's frame, and the default lane's. */
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;
/** mu-law silence; 0x00 is a loud negative sample, not silence. */
export const MULAW_SILENCE = 0xff;

// line 0 (main)
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_SLOTS = 2;
export const H_BOUND = 3;
export const H_WR = 4;
export const H_GEN = 5;
export const H_DROPS = 6;
export const H_OWNER = 7;
export const H_FRAME_BYTES = 8;
export const H_PAUSED = 9;
export const H_TALK_END = 10;
// line 1 (both)
export const H_RD = 16;
export const H_ATTN = 17;
// line 2 (pacer)
export const H_STATE = 32;
export const H_UNDERRUNS = 34;
export const H_LATE = 35;
// line 3 (sender)
export const H_TX_SENT = 48;
export const H_TX_SLOW = 49;
export const H_TX_STALE = 50;

export const HEADER_BYTES = 256;
/** Int32 words of the header (the view PacerHost and the I/O thread keep per lane). */
export const HEADER_WORDS = HEADER_BYTES / 4;

export const SLOT_HEADER_BYTES = 16;
/** A slot for frames of `frameBytes`, rounded to 16 bytes (176 for G.711, 976 for L16 at 24 kHz). */
export function slotBytes(frameBytes: number): number {
  return (SLOT_HEADER_BYTES + frameBytes + 15) & ~15;
}
export const S_KIND = 0;
export const S_GEN = 1;
export const S_VALUE = 2;

export const KIND_FRAME = 1;
export const KIND_MARK = 2;

/** Pacer-side lane state, published in H_STATE so main knows when a write must wake the pacer. */
export const STATE_IDLE = 0;
export const STATE_PLAYING = 1;

export const DEFAULT_QUEUE_FRAMES = 120; // 2.4 s
export const MAX_QUEUE_FRAMES = 1024; // 20.48 s: anything longer is stale speech, not a queue
/** The longest audio a lane can hold, and so the ceiling of a call's latency bound (maxQueuedMs). */
export const MAX_QUEUED_MS = MAX_QUEUE_FRAMES * FRAME_MS;

/** Slots for a bound: the next power of two with headroom, so a consumer that is copying slot r
 * is only overwritten after several drops, and its compareExchange then fails anyway. */
export function slotsForBound(bound: number): number {
  let slots = 8;
  while (slots < bound + 8) slots *= 2;
  return slots;
}

export function laneBytes(slots: number, frameBytes = FRAME_BYTES): number {
  return HEADER_BYTES + slots * slotBytes(frameBytes);
}

/** Word index of slot `counter`'s header inside the lane's Int32Array (`slotWords` = slotBytes / 4). */
export function slotWord(counter: number, mask: number, slotWords: number): number {
  return (HEADER_BYTES >> 2) + (counter & mask) * slotWords;
}

/** Byte offset of slot `counter`'s data. */
export function slotDataByte(counter: number, mask: number, slotBytes: number): number {
  return HEADER_BYTES + (counter & mask) * slotBytes + SLOT_HEADER_BYTES;
}
