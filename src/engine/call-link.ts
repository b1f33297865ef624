import { safeEmit } from '../log/safe-emit.js';
import type { CallLink } from '../server/call-link.js';
import type { CallLine } from './call-line.js';

/**
 * A stream's events applied to its Call, on main. With io: 'main' the stream session calls this
 * directly; with io: 'worker' the I/O host calls it for each event the I/O thread forwarded, so
 * both modes apply the same rules.
 */
export function linkTo(call: CallLine): CallLink {
  return {
    streamSid: call.streamSid,
    get isClosed() {
      return call.isClosed;
    },
    deliverMedia: (media) => call.deliverMedia(media),
    dtmf: (digit, track) => safeEmit(call.call, call.logger, 'dtmf', { digit, track }),
    markEchoed: (name) => {
      const ours = call.markEchoed(name);
      if (!ours) call.logger.debug({ name: name.slice(0, 64) }, 'echo of a mark we did not send');
      return ours;
    },
    stopped: () => {
      safeEmit(call.call, call.logger, 'stop');
      // The carrier ended the stream: ptime closes the socket now (1000, reason 'stop'), so the
      // close event says why and no carrier holds a dead socket open.
      call.close(1000, 'stop');
    },
    flow: (paused) => call.flow(paused),
    socketClosed: (code, reason) => call.release(code, reason),
    countRejection: () => call.countRejection(),
    markSent: (id) => call.markSent(id),
    slowDrop: (now, dropped) => call.noteSlowDrops(now, dropped),
    stuck: (message) => call.slowPeerStuck(message),
  };
}
