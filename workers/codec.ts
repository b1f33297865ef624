/**
 * Piscina worker entry for codec jobs (the pool is created by the engine, not here).
 *
 * Workers hold no per-stream state: a streaming job brings its resampler state and takes the new
 * one back (see src/codec/codec-job.ts for why and for the inline-vs-pool split), so any worker
 * may run any job, in any pool size, and a crashed worker loses only the job it was running.
 *
 * Output buffers are moved, not copied, back to the caller. A PtimeError comes back as a
 * `{ op: 'error' }` reply because cloning an Error drops its `code`; anything else (a bug) is
 * thrown so piscina rejects the task with it.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { PtimeError } from '../src/errors.js';
import { type CodecJob, type CodecReply, transferListOf } from '../src/codec/codec-job.js';
import { runCodecJob } from '../src/codec/run-codec-job.js';

export default function codecWorker(job: CodecJob): ReturnType<typeof move> | CodecReply {
  try {
    const result = runCodecJob(job);
    return move({ [transferableSymbol]: transferListOf(result), [valueSymbol]: result });
  } catch (err) {
    if (err instanceof PtimeError) return { op: 'error', code: err.code, message: err.message };
    throw err;
  }
}
