#!/usr/bin/env node
import { PtimeError } from '../errors.js';
import { loadtest } from './loadtest.js';
import { serve } from './serve.js';
import { UsageError } from './serve-args.js';

const USAGE = `Usage: ptime <command> [options]

Commands:
  serve     run the engine with its demo application (ptime serve --help)
  loadtest  play Twilio's side of N calls against a URL and report (ptime loadtest --help)
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    await serve(rest);
    return;
  }
  if (command === 'loadtest') {
    if (!(await loadtest(rest))) process.exitCode = 1;
    return;
  }
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
