/**
 * At most `limit` calls in flight; the others wait their turn in the order they came
 * (first come, first served, so an earlier window's pages go out before a later one's).
 */
export class RequestSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`RequestSlots needs a limit of at least 1, got ${limit}`);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      await new Promise<void>(resolve => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await call();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next caller: `running` counts it still.
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Calls in flight (for tests). */
  get inFlight(): number {
    return this.running;
  }
}
