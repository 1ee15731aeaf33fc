/**
 * Memoizes derived values (sorted or filtered listings) until the directory changes:
 * a walk over an unchanged directory sorts once, and the first request after a mutation
 * sees the live state. Bounded, oldest entry evicted first.
 */
export class VersionedCache<V> {
  private readonly entries = new Map<string, V>();
  private seenVersion = -1;

  constructor(
    private readonly currentVersion: () => number,
    private readonly limit = 32,
  ) {}

  get(key: string, compute: () => V): V {
    const version = this.currentVersion();
    if (version !== this.seenVersion) {
      this.entries.clear();
      this.seenVersion = version;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, value);
    return value;
  }
}
