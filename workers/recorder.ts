/**
 * The recorder thread: call recordings are decoded, interleaved and written here, off main and off
 * the pacer. RecorderThread does the work; this file wires it to the worker's port.
 */
import { parentPort } from 'node:worker_threads';
import { RecorderThread } from '../src/record/recorder-thread.js';
import type { RecorderCommand, RecorderReply } from '../src/record/recorder-protocol.js';

const port = parentPort!;
// A stream recording's bytes are moved back to main, not copied.
const thread = new RecorderThread((msg: RecorderReply) =>
  port.postMessage(msg, msg.op === 'data' ? [msg.bytes.buffer as ArrayBuffer] : []),
);
port.on('message', (cmd: RecorderCommand | { op: 'stop' }) => {
  if (cmd.op === 'stop') {
    thread.closeAll();
    port.postMessage({ op: 'stopped' });
    return;
  }
  thread.handle(cmd);
});
