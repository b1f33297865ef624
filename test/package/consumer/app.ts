/**
 * An app that depends on the packed ptime, compiled by the package test with a strict consumer's
 * tsconfig (skipLibCheck off) and then run: it serves one call on a loopback port, speaks half a
 * second of mu-law to ptime's test peer, marks the end, and shuts the engine down. Each check
 * prints a line the test expects; any failure throws, so the process exits non-zero.
 */
import { createEngine, twiml, ErrorCodes, FRAME_BYTES, MULAW_SILENCE, PtimeError, type Call } from 'ptime';
import { TwilioPeer } from 'ptime/testing';

const SPOKEN_FRAMES = 25; // 0.5 s at 20 ms a frame

// A hang fails the run instead of stalling the test; unref'd so it never keeps a healthy run alive.
setTimeout(() => {
  process.stderr.write('consumer: timed out\n');
  process.exit(1);
}, 20_000).unref();

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`consumer: ${what}`);
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return null;
}

async function* halfSecond(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < SPOKEN_FRAMES; i++) yield new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
}

const engine = await createEngine({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
const address = engine.address();
check(address !== null, 'an engine on its own port has no address');
const url = `ws://127.0.0.1:${address.port}/media`;
check(
  twiml.connectStream({ url, parameters: { agent: 'support' } }).includes('<Parameter name="agent" value="support"/>'),
  'twiml lacks the parameter',
);
console.log('listening');

const answered = new Promise<Call>((resolve) => engine.once('call', resolve));
const peer = await TwilioPeer.connect(url);
peer.start({ agent: 'support' });
const call = await answered;
check(call.customParameters['agent'] === 'support', `customParameters are ${JSON.stringify(call.customParameters)}`);
const played: string[] = [];
call.on('utterancePlayed', ({ utterance }) => played.push(utterance));
const closed = new Promise<number>((resolve) => call.once('close', ({ code }) => resolve(code)));

const spoken = await call.speak(halfSecond(), { utterance: 'greeting' });
check(
  spoken.status === 'played' && played.includes('greeting'),
  `speak() ended ${JSON.stringify(spoken)}, played ${played.join()}`,
);
console.log(`speak ${spoken.status}`);
call.send(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE));
const marked = await call.mark('after-greeting');
check(marked.status === 'played' && peer.echoed.includes('after-greeting'), `mark ended ${JSON.stringify(marked)}`);
console.log(`mark ${marked.status}`);
await peer.waitFor(() => peer.frames >= SPOKEN_FRAMES + 1, 5000, 'every frame sent');
console.log('peer frames ok');

const err = thrown(() => call.sendPcm16(new Int16Array(0), 16000));
check(err instanceof PtimeError && err.code === ErrorCodes.INVALID_AUDIO, `empty PCM16 threw ${String(err)}`);
console.log(`refused ${err.code}`);

peer.stop();
console.log(`call closed ${await closed}`);
await engine.close();
console.log('engine closed');
