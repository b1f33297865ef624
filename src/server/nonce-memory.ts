/**
 * Nonces seen recently, so a captured signed upgrade cannot be replayed: Plivo signs each request
 * with a fresh nonce, and a signature is otherwise valid for as long as its URL is. Bounded in
 * both time (a nonce is remembered `ttlMs`) and count (the oldest is forgotten past `max`), so a
 * flood of valid upgrades cannot grow memory; past that bound a replay older than the flood is
 * accepted again, which is the price of the bound.
 */
export class NonceMemory {
  /** Insertion order is expiry order: every nonce lives the same ttl. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 100_000,
  ) {}

  /** True the first time `nonce` is offered within its ttl; false for a replay. */
  firstUse(nonce: string, now: number): boolean {
    for (const [n, expires] of this.seen) {
      if (expires > now && this.seen.size < this.max) break;
      this.seen.delete(n);
    }
    const expires = this.seen.get(nonce);
    if (expires !== undefined && expires > now) return false;
    this.seen.set(nonce, now + this.ttlMs);
    return true;
  }
}
