import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/**
 * Emit without letting a throwing listener unwind into the engine (the pacer hand-back loop or a
 * socket handler): the error is logged and the engine carries on with the other calls.
 */
export function safeEmit<T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  logger: Logger,
  event: K,
  ...args: T[K]
): void {
  try {
    // EventEmitter's typed overloads cannot follow a generic K through a rest tuple.
    (emitter.emit as (e: string, ...a: unknown[]) => boolean).call(emitter, event, ...args);
  } catch (err) {
    logger.error({ err, event }, 'listener threw; ignored');
  }
}
