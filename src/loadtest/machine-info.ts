import { cpus } from 'node:os';
import type { LoadReport } from './report-types.js';

/** The machine line every report starts with. */
export function machineInfo(): LoadReport['machine'] {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    when: new Date().toISOString(),
  };
}
