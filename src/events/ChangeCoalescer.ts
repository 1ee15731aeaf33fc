import { AuthentikChangeHint, hintRecordedAt } from './analyzeAuthentikWebhook';
import { ChangeSet } from './DeltaPlanner';

export interface ChangeBatch {
  changes: ChangeSet;
  /** Receipt time of the oldest hint in the batch (for lag measurements). */
  firstReceivedAt: number;
  hints: number;
}

export interface ChangeCoalescerOptions {
  /** Quiet time after the last hint before a batch is flushed. */
  windowMs: number;
  /** Longest a hint waits while hints keep coming. */
  maxDelayMs: number;
  flush(batch: ChangeBatch): Promise<void>;
}

/**
 * Collects change hints for a short quiet window so that a burst of events about many (or
 * the same) objects costs one plan, and runs plans one at a time: hints arriving during a
 * plan form the next batch.
 */
export class ChangeCoalescer {
  private pending?: ChangeBatch;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: ChangeCoalescerOptions) {}

  /**
   * `confirmation`: a scheduled second read (`PlannedDelta.confirm`), not a new event.
   * The batch's `since` is the earliest receipt time of its hints, or an event's own
   * `created` when that is earlier (a delivery retried late).
   */
  add(hint: Pick<AuthentikChangeHint, 'model' | 'pk' | 'name' | 'created'>, confirmation = false): void {
    if (this.stopped) return;
    const now = Date.now();
    const at = Math.min(now, hintRecordedAt(hint) ?? now);
    this.pending ??= {
      changes: {
        users: new Set(),
        groups: new Set(),
        groupNames: new Set(),
        confirming: { users: new Set(), groups: new Set() },
      },
      firstReceivedAt: now,
      hints: 0,
    };
    const { changes } = this.pending;
    changes.since = Math.min(changes.since ?? at, at);
    const keys = hint.model === 'user' ? changes.users : changes.groups;
    const confirming = hint.model === 'user' ? changes.confirming!.users : changes.confirming!.groups;
    if (!confirmation) confirming.delete(hint.pk);
    else if (!keys.has(hint.pk)) confirming.add(hint.pk);
    keys.add(hint.pk);
    if (hint.model === 'group' && hint.name) this.pending.changes.groupNames?.add(hint.name);
    this.pending.hints++;
    this.schedule();
  }

  /** Resolves once every hint added so far has been flushed. */
  async idle(): Promise<void> {
    while (this.pending || this.running) {
      if (this.pending && !this.running) this.fire();
      await this.running;
    }
  }

  /**
   * No more batches: the pending one is dropped, its timer cleared, later hints ignored.
   * Resolves when the flush in progress (which the owner aborts) has ended.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pending = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.running || !this.pending) return;
    clearTimeout(this.timer);
    const deadline = this.pending.firstReceivedAt + this.options.maxDelayMs;
    const delay = Math.max(0, Math.min(this.options.windowMs, deadline - Date.now()));
    this.timer = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    clearTimeout(this.timer);
    const batch = this.pending;
    if (!batch || this.running) return;
    this.pending = undefined;
    this.running = this.options
      .flush(batch)
      .catch(() => undefined) // flush handles its own errors; never leave a rejection behind
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }
}
