import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Piscina } from 'piscina';
import { type CodecJob, type CodecReply, type CodecResult, unwrapCodecReply } from '../codec/codec-job.js';
import { runCodecJob } from '../codec/run-codec-job.js';
import { ErrorCodes, PtimeError } from '../errors.js';
import { ThrottledCount } from '../log/throttled-count.js';

const WORKER_URL = new URL('../../workers/codec.js', import.meta.url).href;
const FAILURE_LOG_MS = 2000;
/** Idle pool threads beyond the first exit after this long: a burst of TTS does not hold every core's thread for good. */
const IDLE_TIMEOUT_MS = 30_000;

export interface CodecPoolFigures {
  jobs: number;
  /** Jobs the pool failed (a worker died) and that were then run inline instead. */
  inlineFallbacks: number;
}

/**
 * The engine's piscina pool for large codec jobs, created on first use. Jobs are pure (they carry
 * their stream state, see codec-job.ts), so when a worker dies mid-job the job is simply run
 * again inline from the same input: the call gets its audio, late by one job, never a gap.
 */
export class CodecPool {
  private pool: Piscina<CodecJob, CodecReply> | null = null;
  private destroyed = false;
  private lastFailure = '';
  private readonly figures: CodecPoolFigures = { jobs: 0, inlineFallbacks: 0 };
  private readonly failures: ThrottledCount;

  constructor(
    readonly threads: number,
    logger: Logger,
  ) {
    this.failures = new ThrottledCount(FAILURE_LOG_MS, (count) =>
      logger.error({ count, lastError: this.lastFailure }, 'codec pool job failed; ran it inline instead'),
    );
  }

  /**
   * Run a job on a pool thread. Its input is copied to the worker, not moved, so the same job can
   * be run again inline if the worker dies; results are moved back.
   */
  async run(job: CodecJob): Promise<CodecResult> {
    if (this.destroyed) throw new PtimeError(ErrorCodes.CODEC_JOB, 'codec pool is closed (engine closing)');
    this.pool ??= new Piscina<CodecJob, CodecReply>({
      filename: WORKER_URL,
      minThreads: 1,
      maxThreads: this.threads,
      idleTimeout: IDLE_TIMEOUT_MS,
    });
    this.figures.jobs++;
    let reply: CodecReply;
    try {
      reply = await this.pool.run(job);
    } catch (err) {
      if (this.destroyed) throw new PtimeError(ErrorCodes.CODEC_JOB, 'codec pool is closed (engine closing)');
      this.figures.inlineFallbacks++;
      this.lastFailure = err instanceof Error ? err.message : String(err);
      this.failures.add(performance.now());
      return runCodecJob(job);
    }
    return unwrapCodecReply(reply);
  }

  stats(): CodecPoolFigures {
    return { ...this.figures };
  }

  /** Periodic housekeeping: flush a throttled failure count whose period ended. */
  tick(now: number): void {
    this.failures.tick(now);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.failures.tick(Number.POSITIVE_INFINITY);
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}
