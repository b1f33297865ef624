/**
 * One generator process of several: runs its slice of the calls and writes the raw result to the
 * file it was given. Used when one generator process would be the bottleneck.
 */
import { writeFileSync } from 'node:fs';
import { runLoad, type LoadOptions } from '../../src/loadtest/load-generator.js';

const [optionsJson, outFile] = process.argv.slice(2) as [string, string];
const result = await runLoad(JSON.parse(optionsJson) as LoadOptions);
writeFileSync(outFile, JSON.stringify(result));
