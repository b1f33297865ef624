/**
 * Promises that resolve when a condition over a peer's received messages first holds, checked
 * each time something arrives; each rejects after its own timeout so a broken expectation fails
 * instead of hanging. Shared by the carrier test peers.
 */
export class Waiters {
  private list: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly describe: () => string) {}

  wait(pred: () => boolean, ms: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}; ${this.describe()}`)),
        ms,
      );
      this.list.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Something arrived (or the socket closed): settle every wait whose condition now holds. */
  check(): void {
    this.list = this.list.filter((w) => {
      if (!w.pred()) return true;
      w.resolve();
      return false;
    });
  }
}
