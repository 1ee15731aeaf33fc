/**
 * Entity name → user pk for a whole walk, in typed arrays outside the JavaScript heap: a
 * walk of 100,000 users keeps ~3 MiB here instead of ~9 MiB of strings and map entries that
 * the garbage collector would have to trace (and that made the heap grow with the
 * directory). Names are stored as a 64-bit hash; two different names sharing one (about
 * 1 in 10^9 for a million users) would cost one of them a needless `-<pk>` suffix.
 */
export class HashedNameClaims {
  private mask: number;
  private hashes: Int32Array;
  private checks: Int32Array;
  private values: Int32Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.checks = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get(name: string): number | undefined {
    hash64(name);
    const h1 = hashed1;
    const h2 = hashed2;
    for (let slot = h1 & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.values[slot] === 0) return undefined;
      if (this.hashes[slot] === h1 && this.checks[slot] === h2) return this.values[slot] - 1;
    }
  }

  set(name: string, pk: number): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    hash64(name);
    this.insert(hashed1, hashed2, pk + 1);
  }

  private insert(h1: number, h2: number, stored: number): void {
    for (let slot = h1 & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.values[slot] === 0) {
        this.hashes[slot] = h1;
        this.checks[slot] = h2;
        this.values[slot] = stored;
        this.count++;
        return;
      }
      if (this.hashes[slot] === h1 && this.checks[slot] === h2) {
        this.values[slot] = stored;
        return;
      }
    }
  }

  private grow(): void {
    const { hashes, checks, values } = this;
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.checks = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.count = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== 0) this.insert(hashes[i], checks[i], values[i]);
    }
  }
}

/** `hash64`'s result (no array per call: a walk hashes every user's name twice). */
let hashed1 = 0;
let hashed2 = 0;

/** Two independent 32-bit hashes of a string (cyrb53's mixing), into `hashed1` and `hashed2`. */
function hash64(text: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  hashed1 = h1 | 0;
  hashed2 = h2 | 0;
}
