/**
 * A list that is filled and emptied on every wake without allocating. `array.length = 0` makes V8
 * drop the backing store, so the next fill grows a new one: an allocation per wake on the pacer
 * thread, of a size that follows the lanes due. This keeps its store and its own count.
 */
export class ItemList<T> {
  private readonly items: (T | undefined)[] = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(item: T): void {
    this.items[this.n++] = item;
  }

  at(i: number): T {
    return this.items[i]!;
  }

  /** Empty it; the slots are cleared so nothing stays reachable from here. */
  clear(): void {
    for (let i = 0; i < this.n; i++) this.items[i] = undefined;
    this.n = 0;
  }
}
