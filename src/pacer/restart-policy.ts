import { ErrorCodes, PtimeError } from '../errors.js';

/**
 * When a crashed pacer worker is started again, and when to stop trying. Pure: it takes a clock,
 * so tests drive it with a fake one.
 *
 * - Backoff: the n-th restart of a streak waits 0 ms, then base, 2·base, 4·base… up to maxDelayMs
 *   (defaults 0, 50, 100, 200, 400, 800, 1600, 2000, 2000… ms). A worker that ran for healthyMs
 *   before it failed ends the streak, so the next restart is immediate again.
 * - Limit: more than maxRestarts failures within any windowMs is a crash loop, not bad luck: the
 *   decision is to give up, with a PTIME_ERR_PACER_FAILED error naming the limit. The window
 *   counts every failure, healthy run or not, so a worker that dies every few seconds still hits it.
 */
export interface RestartLimits {
  /** Failures tolerated within windowMs, each followed by a restart; one more is fatal. */
  maxRestarts: number;
  windowMs: number;
  /** Delay of the second restart of a streak (the first is immediate); doubles after that. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A worker that ran this long before failing counts as healthy: the backoff starts over. */
  healthyMs: number;
}

export const DEFAULT_RESTART_LIMITS: Readonly<RestartLimits> = Object.freeze({
  maxRestarts: 5,
  windowMs: 30_000,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  healthyMs: 5_000,
});

export type RestartDecision =
  | { restart: true; /** 1 for the first restart of a streak. */ attempt: number; delayMs: number }
  | { restart: false; error: PtimeError };

export function validateRestartLimits(limits: RestartLimits): void {
  for (const key of ['maxRestarts', 'windowMs', 'baseDelayMs', 'maxDelayMs', 'healthyMs'] as const) {
    const v = limits[key];
    if (!Number.isFinite(v) || v < 0) {
      throw new PtimeError(
        ErrorCodes.INVALID_OPTION,
        `pacer restart ${key} must be a finite number >= 0 (got ${String(v)})`,
      );
    }
  }
  if (!Number.isInteger(limits.maxRestarts)) {
    throw new PtimeError(
      ErrorCodes.INVALID_OPTION,
      `pacer restart maxRestarts must be an integer (got ${limits.maxRestarts})`,
    );
  }
}

export class RestartPolicy {
  readonly limits: Readonly<RestartLimits>;
  /** Restarts since the worker last ran healthily. */
  private streak = 0;
  /** Times of the failures inside the current window, oldest first. */
  private readonly failures: number[] = [];
  private startedAt: number;

  constructor(
    limits: Partial<RestartLimits> = {},
    private readonly now: () => number,
  ) {
    const full = { ...DEFAULT_RESTART_LIMITS, ...limits };
    validateRestartLimits(full);
    this.limits = Object.freeze(full);
    this.startedAt = now();
  }

  /** A worker was started (the first one or a replacement). */
  started(): void {
    this.startedAt = this.now();
  }

  /** The worker failed: restart it after `delayMs`, or give up. */
  failed(reason: string): RestartDecision {
    const t = this.now();
    const l = this.limits;
    if (t - this.startedAt >= l.healthyMs) this.streak = 0;
    while (this.failures.length > 0 && t - this.failures[0]! >= l.windowMs) this.failures.shift();
    this.failures.push(t);
    if (this.failures.length > l.maxRestarts) {
      const message =
        `pacer worker failed ${this.failures.length} time${this.failures.length === 1 ? '' : 's'} within ${formatMs(l.windowMs)} ` +
        `(limit: ${l.maxRestarts} restarts per ${formatMs(l.windowMs)}); giving up. Last failure: ${reason}`;
      return { restart: false, error: new PtimeError(ErrorCodes.PACER_FAILED, message) };
    }
    const delayMs = this.streak === 0 ? 0 : Math.min(l.maxDelayMs, l.baseDelayMs * 2 ** (this.streak - 1));
    this.streak++;
    return { restart: true, attempt: this.streak, delayMs };
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
