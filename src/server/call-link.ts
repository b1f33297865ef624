import type { InboundMedia } from '../protocol/carrier-adapter.js';
import type { EgressEvents } from './lane-egress.js';

/**
 * What the socket side tells a stream's call: the carrier's events from the session, and what
 * happened to its outbound audio from the egress. With io: 'main' it reaches the call directly
 * (engine/call-link.ts); with io: 'worker' it is a proxy that posts each event to main
 * (io/remote-link.ts), so both modes apply the same rules.
 */
export interface CallLink extends EgressEvents {
  readonly streamSid: string;
  deliverMedia(media: InboundMedia): void;
  dtmf(digit: string, track: string): void;
  /** The carrier echoed a mark; false if it is not one we sent. */
  markEchoed(name: string): boolean;
  /** The carrier sent `stop`. */
  stopped(): void;
  /** Carrier flow control: pause or resume sending (Asterisk MEDIA_XOFF/XON). */
  flow(paused: boolean): void;
  /** The socket closed (either side). */
  socketClosed(code: number, reason: string): void;
  countRejection(): void;
}
