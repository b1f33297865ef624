/**
 * Child process for the listen-failure test: start an engine on a port the parent holds, print the
 * code it was refused with, and then do nothing. If the failed start left anything open (the pacer
 * or I/O thread, a server, a timer) this process would never exit.
 */
import { createEngine, PtimeError } from '../../src/index.js';
import { IO_MODE } from './engine-fixture.js';

try {
  await createEngine({ port: Number(process.argv[2]), host: '127.0.0.1', io: IO_MODE, logLevel: 'silent' });
  process.stdout.write('listened\n');
} catch (err) {
  process.stdout.write(`${err instanceof PtimeError ? err.code : String(err)}\n`);
}
