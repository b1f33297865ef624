/**
 * What a call tells its socket side. With io: 'main' it is the stream session itself; with
 * io: 'worker' a proxy that posts each call as a command to the I/O thread, whose session then
 * does the same.
 */
export interface CallTransport {
  /** The call got lane `lane` (before anything of it is queued or paced): its frames go to this socket. */
  bindLane(lane: number, sab: SharedArrayBuffer, owner: number, gen: number): void;
  /** A mark is about to be queued: its message, for when the pacer reaches it. */
  markQueued(id: number, wire: string, gen: number): void;
  /** Barge-in: send the carrier's clear now; no frame or mark of a generation before `gen` may follow it. */
  clear(wire: string, gen: number): void;
  close(code: number, reason: string): void;
  /**
   * Whether the call wants inbound media (a 'media' listener, PCM16 delivery): a stream starts
   * wanting it; when it does not, its media is still read and checked but goes no further (with
   * io: 'worker' it does not cross to main).
   */
  wantMedia(wanted: boolean): void;
}
