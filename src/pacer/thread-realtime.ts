import { execFile } from 'node:child_process';

/**
 * Put one thread (by kernel id) under SCHED_FIFO at `priority`, with util-linux `chrt`: Node has
 * no API for a thread's scheduling policy. Resolves null on success, else why not (no chrt, no
 * CAP_SYS_NICE, a thread that is gone).
 */
export function setThreadFifo(tid: number, priority: number): Promise<string | null> {
  return new Promise((resolve) => {
    if (tid <= 0) {
      resolve('the pacer thread id is unknown (no /proc/thread-self)');
      return;
    }
    execFile('chrt', ['-f', '-p', String(priority), String(tid)], { timeout: 2000 }, (err, _out, stderr) => {
      resolve(err ? (stderr.trim() || err.message).slice(0, 300) : null);
    });
  });
}
