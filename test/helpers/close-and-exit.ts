/**
 * Child process for the shutdown test: run one call, close the engine, and then do nothing. If
 * ptime left any handle open (socket, timer, worker, port) this process would never exit.
 */
import { once } from 'node:events';
import { createEngine } from '../../src/index.js';
import { TwilioClient } from './twilio-client.js';

const engine = await createEngine({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
const client = await TwilioClient.connect(`ws://127.0.0.1:${engine.address()!.port}/media`);
client.start();
const [call] = await once(engine, 'call');
(call as { send(b: Uint8Array): boolean }).send(new Uint8Array(1600).fill(0xff));
await client.waitFor((m) => m.length >= 3, 5000, 'audio');
await engine.close();
process.stdout.write(`closed ${await client.closed()}\n`);
