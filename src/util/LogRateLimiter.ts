/**
 * At most one log line per interval, for lines anyone can trigger (an unauthenticated flood
 * must not flood the logs). The next line that is let through learns how many were held back.
 */
export class LogRateLimiter {
  private lastAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `log` (with the number of lines held back since the last one), unless it is too soon. */
  run(log: (suppressed: number) => void): void {
    const now = this.now();
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    const suppressed = this.suppressed;
    this.lastAt = now;
    this.suppressed = 0;
    log(suppressed);
  }
}
