/**
 * An engine for the descriptor-exhaustion test, run in a child under a low `ulimit -n`: its app
 * plays a stamped frame every 20 ms on each call. It prints its port on the first line of stdout,
 * its pino log after it, and closes on a line on stdin.
 */
import { createEngine } from '../../src/index.js';
import { IO_MODE } from './engine-fixture.js';
import { stampedFrame } from './seeded.js';

const engine = await createEngine({ port: 0, host: '127.0.0.1', io: IO_MODE, logLevel: 'warn', markEveryMs: 0 });
engine.on('call', (call) => {
  let seq = 0;
  const timer = setInterval(() => call.send(stampedFrame(seq++)), 20);
  call.on('close', () => clearInterval(timer));
});
process.stdout.write(`${JSON.stringify({ port: engine.address()!.port })}\n`);
process.stdin.once('data', () => {
  void engine.close({ drainMs: 0 }).then(() => process.exit(0));
});
