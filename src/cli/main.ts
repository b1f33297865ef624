#!/usr/bin/env node
import { attachDemoApp } from '../demo/demo-app.js';
import { createEngine } from '../engine/engine.js';
import { PtimeError } from '../errors.js';
import { SERVE_USAGE, UsageError, parseServeArgs } from './serve-args.js';

const USAGE = `Usage: ptime <command> [options]

Commands:
  serve     run the engine with its demo application (ptime serve --help)
`;

async function serve(argv: string[]): Promise<void> {
  const { help, ...opts } = parseServeArgs(argv);
  if (help) {
    process.stdout.write(SERVE_USAGE);
    return;
  }
  const engine = await createEngine(opts);
  attachDemoApp(engine);
  const addr = engine.address()!;
  engine.logger.info(
    { port: addr.port, path: engine.options.path, queue: engine.options.queue, lead: engine.options.lead, spinUs: engine.options.spinUs },
    `ptime serving ws://${addr.address === '::' ? 'localhost' : addr.address}:${addr.port}${engine.options.path}`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(1); // a second signal: do not wait
    stopping = true;
    engine.logger.info({ signal }, 'shutting down');
    void engine.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve(rest);
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return;
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`ptime: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (err instanceof PtimeError) {
    process.stderr.write(`ptime: ${err.code}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`ptime: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
