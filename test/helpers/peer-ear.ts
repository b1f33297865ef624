import { performance } from 'node:perf_hooks';
import { RealtimeListener } from '../../src/loadtest/realtime-listener.js';
import { rawText } from '../../src/server/raw-data.js';
import type { ListeningPeer } from './listening-peer.js';

export interface Heard {
  /** When each media frame started playing at the peer (real-time play-out), in arrival order. */
  starts: number[];
  /** When each clear arrived. */
  clears: number[];
}

/** Beside the peer's own play-out, the same model with each frame's start time kept for the test. */
export function listen(peer: ListeningPeer): Heard {
  const ear = new RealtimeListener();
  const heard: Heard = { starts: [], clears: [] };
  peer.ws.on('message', (data) => {
    const now = performance.now();
    const msg = JSON.parse(rawText(data)) as { event: string };
    if (msg.event === 'media') heard.starts.push(ear.frame(now));
    else if (msg.event === 'clear') {
      ear.clear(now);
      heard.clears.push(now);
    }
  });
  return heard;
}
