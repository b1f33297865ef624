import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createEngine, type Call, type Engine, type EngineOptions } from '../../src/index.js';
import { TwilioClient } from './twilio-client.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Fixture {
  engine: Engine;
  url: string;
  logs: LogLine[];
  connect(): Promise<TwilioClient>;
  close(): Promise<void>;
}

/**
 * Where the fixture's engines put their sockets: the socket-level suites run once per mode
 * (`npm test` runs test/server again with PTIME_IO=worker). A test that sets `io` itself keeps it.
 */
export const IO_MODE: 'main' | 'worker' = process.env['PTIME_IO'] === 'worker' ? 'worker' : 'main';

/**
 * A real engine on a loopback port with its pino output captured for assertions. The engine's own
 * marks (markEveryMs, default 500 in production) are off unless a test asks for them: tests that
 * count a call's outbound messages count the app's marks and media only. The heard() tests, the
 * demo and the CLI tests run with them on.
 */
export async function startEngine(opts: EngineOptions = {}, level = 'info'): Promise<Fixture> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const engine = await createEngine({
    port: 0,
    host: '127.0.0.1',
    io: opts.server || opts.pacer ? 'main' : IO_MODE,
    logger: pino({ level }, sink),
    markEveryMs: 0,
    ...opts,
  });
  const url = `ws://127.0.0.1:${engine.address()!.port}${engine.options.path}`;
  const clients: TwilioClient[] = [];
  return {
    engine,
    url,
    logs,
    async connect() {
      const c = await TwilioClient.connect(url);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.ws.terminate();
      await engine.close();
    },
  };
}

/** Send `frames` to the server at 50 per second on an absolute clock, like Twilio does. */
export async function streamFrames(client: TwilioClient, frames: Uint8Array[]): Promise<void> {
  const t0 = performance.now();
  for (let k = 0; k < frames.length; k++) {
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    client.media160(frames[k]!);
  }
}

export function frameOf(byte: number): Uint8Array {
  return new Uint8Array(160).fill(byte);
}

/** Poll until `pred()` holds; reject after `ms` so a broken expectation fails instead of hanging. */
export function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pred()) resolve();
      else if (performance.now() > deadline) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

/** Send Twilio's `connected` + `start` on `client` and resolve with the engine's Call for it. */
export async function startCall(
  engine: Engine,
  client: TwilioClient,
  customParameters: Record<string, string> = {},
): Promise<Call> {
  const ready = once(engine, 'call') as Promise<[Call]>;
  client.start(customParameters);
  const [call] = await ready;
  return call;
}
