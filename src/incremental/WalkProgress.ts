import { LoggerService } from '@backstage/backend-plugin-api';

/** Logs how a long walk is doing, at most once per `intervalMs`. */
export class WalkProgress {
  private lastLog = Date.now();

  constructor(
    private readonly logger: LoggerService,
    private readonly walkId: string,
    private readonly startedAt: number,
    private readonly intervalMs = 15_000,
  ) {}

  report(usersSoFar: number, pagesLeft: number, pagesRead: number): void {
    const now = Date.now();
    if (now - this.lastLog < this.intervalMs) {
      return;
    }
    this.lastLog = now;
    const seconds = Math.max(1, (now - this.startedAt) / 1000);
    this.logger.info(
      `authentik walk ${this.walkId}: ${usersSoFar} users so far (${Math.round(usersSoFar / seconds)}/s), ` +
        `${pagesRead} pages read, about ${Math.max(0, pagesLeft)} left`,
    );
  }
}
