import { setMaxListeners } from 'node:events';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { IncrementalEntityEventResult } from '@backstage/plugin-catalog-backend-module-incremental-ingestion';
import type { EventParams, EventsService } from '@backstage/plugin-events-node';
import { z } from 'zod';
import { classifyAuthentikError } from '../client/errors';
import { sleep } from '../util/sleep';
import { analyzeAuthentikWebhook } from './analyzeAuthentikWebhook';
import { ChangeBatch, ChangeCoalescer } from './ChangeCoalescer';
import { ChangeSet, DeltaPlanner, PlannedDelta } from './DeltaPlanner';
import { DeltaKind, DeltaRemovalGuard } from './DeltaRemovalGuard';
import { RecentDeltasView } from './RecentDeltasView';
import { deltaTopic, webhookTopic } from './topics';

/** What the handler reports, for metrics and benchmarks. */
export interface EventsObserver {
  onWebhook?(outcome: 'accepted' | 'ignored' | 'duplicate'): void;
  onDelta?(info: { added: number; removed: number; requests: number; lagMs: number; hints: number }): void;
  onPlanFailure?(errorClass: string): void;
  /** Removals a delta was refused (see `DeltaRemovalGuard`), by kind. */
  onRefusedRemovals?(kind: DeltaKind, count: number): void;
}

export interface AuthentikEventHandlerOptions {
  instanceId: string;
  planner: DeltaPlanner;
  view: RecentDeltasView;
  events: EventsService;
  logger: LoggerService;
  locationKey: string;
  coalesceWindowMs: number;
  /** Waits between attempts when authentik cannot be read. Default 1 s, 5 s, 15 s. */
  retryDelaysMs?: number[];
  /** When the next full walk will repair what a failed plan left, for the log. */
  repairHint: string;
  observer?: EventsObserver;
  /** Most entities per published delta (see `AuthentikEntityProvider`'s `maxBatchSize`). */
  maxBatchSize?: number;
  /** Refuses the removals of a delta that would remove many users or groups at once. */
  removalGuard?: DeltaRemovalGuard;
  /** Shared record of applied event pks: a webhook whose event was already applied is skipped. */
  claims?: EventClaims;
  /**
   * Called when a webhook arrives late enough that deliveries before it may have been
   * lost (authentik retried it): the event-log follower then catches up at once.
   */
  onWebhookGap?: () => void;
  /** When the objects a plan asks to confirm are read again (`PlannedDelta.confirm`). Default 3 s. */
  confirmAfterMs?: number;
}

/** Listeners a plan's signal may carry: two per request in flight, with room to spare. */
const PLAN_SIGNAL_LISTENERS = 50;

/** Event pks claimed for application, shared by replicas and by the event-log follower. */
export interface EventClaims {
  /** The pks nobody had claimed before (now claimed by the caller). */
  claim(eventIds: string[]): Promise<Set<string>>;
}

/** A webhook recorded longer ago than this was retried by authentik: earlier ones may be lost. */
const LATE_WEBHOOK_MS = 30_000;

const deltaPayloadSchema = z.object({
  added: z.array(
    z
      .object({
        apiVersion: z.string(),
        kind: z.string(),
        metadata: z.object({ name: z.string() }).passthrough(),
      })
      .passthrough(),
  ),
  removed: z.array(z.string()),
  firstReceivedAt: z.number().optional(),
});

const SEEN_EVENT_IDS = 5000;

/**
 * authentik webhooks in, catalog deltas out. A webhook only queues a hint and returns at
 * once (authentik's delivery, and the HTTP ingress that awaits us, are not held up); the
 * coalesced batch is planned in the background and its delta published on the delta
 * topic, which the engine hands back to `onEvent` to apply and record in its marks.
 */
export class AuthentikEventHandler {
  private readonly coalescer: ChangeCoalescer;
  private readonly seenEventIds = new Set<string>();
  /** Aborted at shutdown: plans in flight and waits between their attempts stop. */
  private readonly stopping = new AbortController();
  /** Webhook batches and the event-log follower, one at a time (see `exclusive`). */
  private planning: Promise<unknown> = Promise.resolve();
  private readonly confirmations = new Set<NodeJS.Timeout>();

  constructor(private readonly options: AuthentikEventHandlerOptions) {
    // Every request of a plan listens on it (a timeout and a retry each): 8 at a time is more
    // than Node's default of 10 listeners, which would warn of a leak that is not one.
    setMaxListeners(PLAN_SIGNAL_LISTENERS, this.stopping.signal);
    this.coalescer = new ChangeCoalescer({
      windowMs: options.coalesceWindowMs,
      maxDelayMs: Math.max(options.coalesceWindowMs * 8, 2000),
      flush: batch => this.flush(batch),
    });
  }

  topics(): string[] {
    return [webhookTopic(this.options.instanceId), deltaTopic(this.options.instanceId)];
  }

  async onEvent(params: EventParams): Promise<IncrementalEntityEventResult> {
    if (params.topic === deltaTopic(this.options.instanceId)) {
      return this.applyDelta(params.eventPayload);
    }
    const analysis = analyzeAuthentikWebhook(params.eventPayload);
    if (analysis.result !== 'ok') {
      this.options.logger.debug(`Ignoring authentik webhook: ${analysis.reason}`);
      this.options.observer?.onWebhook?.('ignored');
      return { type: 'ignored' };
    }
    const { hint } = analysis;
    if (hint.eventId && (this.isDuplicate(hint.eventId) || !(await this.claim(hint.eventId)))) {
      this.options.observer?.onWebhook?.('duplicate');
      return { type: 'ignored' };
    }
    if (hint.created && Date.now() - Date.parse(hint.created) > LATE_WEBHOOK_MS) {
      this.options.onWebhookGap?.();
    }
    this.options.logger.debug(`authentik ${hint.action} on ${hint.model} ${hint.pk}: queued`);
    this.options.observer?.onWebhook?.('accepted');
    this.coalescer.add(hint);
    return { type: 'ignored' };
  }

  /**
   * Resolves when every queued hint has been planned and published, confirmations
   * included (tests, shutdown).
   */
  async idle(): Promise<void> {
    while (this.confirmations.size > 0) await sleep(50);
    await this.coalescer.idle();
    if (this.confirmations.size > 0) await this.idle();
  }

  /**
   * authentik records a membership event before it writes the membership: the objects the
   * plan could not see change are read once more, a few seconds later.
   */
  private scheduleConfirmation(delta: PlannedDelta): void {
    const { users, groups } = delta.confirm;
    if (users.size === 0 && groups.size === 0) return;
    const timer = setTimeout(() => {
      this.confirmations.delete(timer);
      for (const pk of users) this.coalescer.add({ model: 'user', pk }, true);
      for (const pk of groups) this.coalescer.add({ model: 'group', pk }, true);
    }, this.options.confirmAfterMs ?? 3000);
    timer.unref();
    this.confirmations.add(timer);
  }

  /**
   * Backend shutdown: hints not planned yet are dropped (the next full walk covers them),
   * the plan in flight and its retry waits are aborted. Resolves once nothing runs.
   */
  async shutdown(): Promise<void> {
    this.stopping.abort(new Error('the backend is shutting down'));
    for (const timer of this.confirmations) clearTimeout(timer);
    this.confirmations.clear();
    await this.coalescer.stop();
  }

  /**
   * Plans and publishes one set of changes now, bypassing the coalescer; rejects when
   * authentik cannot be read (the caller retries). Used by the event-log follower, which
   * advances its watermark only once this resolved.
   */
  async applyChanges(changes: ChangeSet, hints: number, firstReceivedAt: number, signal?: AbortSignal): Promise<void> {
    const batch: ChangeBatch = { changes, hints, firstReceivedAt };
    if (!signal) return this.planAndPublish(batch);
    // The caller's signal (the scheduler's) stays untouched; the plan's requests listen here.
    const plan = new AbortController();
    setMaxListeners(PLAN_SIGNAL_LISTENERS, plan.signal);
    const stop = () => plan.abort(signal.reason);
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      await this.planAndPublish(batch, plan.signal);
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  /**
   * One plan and its publication, one at a time (each plan sees the deltas before it),
   * through the removal guard; what the plan could not see change is read again later.
   */
  private async planAndPublish(batch: ChangeBatch, signal?: AbortSignal): Promise<void> {
    await this.exclusive(async () => {
      const delta = await this.options.planner.plan(batch.changes, signal);
      await this.publish(await this.guarded(delta, batch), batch);
      this.scheduleConfirmation(delta);
    });
  }

  /** Plan-and-publish one at a time, so that each plan sees the deltas before it. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const done = this.planning.then(work);
    this.planning = done.catch(() => undefined);
    return done;
  }

  private applyDelta(payload: unknown): IncrementalEntityEventResult {
    const parsed = deltaPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      this.options.logger.warn(`Dropping a malformed authentik delta event: ${parsed.error.issues[0]?.message}`);
      return { type: 'ignored' };
    }
    const { added, removed, firstReceivedAt } = parsed.data;
    if (firstReceivedAt) {
      this.options.logger.debug(`authentik delta applied ${Date.now() - firstReceivedAt} ms after the webhook`);
    }
    return {
      type: 'delta',
      added: added.map(entity => ({ entity: entity as Entity, locationKey: this.options.locationKey })),
      removed: removed.map(entityRef => ({ entityRef })),
    };
  }

  private async flush(batch: ChangeBatch): Promise<void> {
    const delays = this.options.retryDelaysMs ?? [1000, 5000, 15000];
    const { signal } = this.stopping;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.planAndPublish(batch, signal);
        return;
      } catch (error) {
        if (signal.aborted) return this.stopped(batch);
        this.options.observer?.onPlanFailure?.(classifyAuthentikError(error));
        if (attempt >= delays.length) {
          this.options.logger.error(
            `Could not apply ${batch.hints} authentik change(s) (${describe(batch)}): ${(error as Error).message}. ` +
              `Nothing was removed; ${this.options.repairHint}.`,
          );
          return;
        }
        this.options.logger.warn(
          `Reading authentik for ${describe(batch)} failed (${(error as Error).message}); retrying in ${delays[attempt]} ms`,
        );
        if (!(await sleep(delays[attempt], signal).then(() => true, () => false))) return this.stopped(batch);
      }
    }
  }

  private stopped(batch: ChangeBatch): void {
    this.options.logger.info(`Stopped applying authentik changes (${describe(batch)}) at shutdown; ${this.options.repairHint}`);
  }

  /** The delta without its removals when they are too many of one kind (see `DeltaRemovalGuard`). */
  private async guarded(delta: PlannedDelta, batch: ChangeBatch): Promise<PlannedDelta> {
    if (!this.options.removalGuard) return delta;
    const { delta: allowed, refused } = await this.options.removalGuard.apply(delta);
    for (const { kind, removed, inCatalog, percent } of refused) {
      this.options.observer?.onRefusedRemovals?.(kind, removed);
      this.options.logger.warn(
        `Refused to remove ${removed} ${kind} entities of ${inCatalog} in the catalog (${Math.round(percent)}% > ` +
          `incremental.rejectRemovalsAbovePercentage) for authentik changes (${describe(batch)}): a read that went ` +
          `wrong is likelier than so many deletions at once. No entity was removed by this change; ${this.options.repairHint}.`,
      );
    }
    return allowed;
  }

  private async publish(delta: PlannedDelta, batch: ChangeBatch): Promise<void> {
    this.options.view.record(delta.added, delta.removed);
    const removed = delta.removed.map(r => stringifyEntityRef({ kind: r.kind, namespace: 'default', name: r.name }));
    this.options.logger.info(
      `${isConfirmation(batch) ? 'authentik confirmation read' : 'authentik changes'} (${describe(batch)}): ` +
        `${delta.added.length} entities upserted, ${removed.length} removed, ` +
        `${delta.requests} authentik requests`,
    );
    const size = this.options.maxBatchSize ?? Math.max(1, delta.added.length);
    for (let start = 0; start === 0 || start < delta.added.length; start += size) {
      await this.options.events.publish({
        topic: deltaTopic(this.options.instanceId),
        eventPayload: {
          added: delta.added.slice(start, start + size),
          removed: start === 0 ? removed : [],
          firstReceivedAt: batch.firstReceivedAt,
        },
      });
    }
    this.options.observer?.onDelta?.({
      added: delta.added.length,
      removed: removed.length,
      requests: delta.requests,
      lagMs: Date.now() - batch.firstReceivedAt,
      hints: batch.hints,
    });
  }

  /** False when another replica, or the event-log follower, already applied this event. */
  private async claim(eventId: string): Promise<boolean> {
    if (!this.options.claims) return true;
    try {
      return (await this.options.claims.claim([eventId])).has(eventId);
    } catch (error) {
      // Applying twice is harmless; not applying would lose the change.
      this.options.logger.debug(`Could not record authentik event ${eventId} as applied: ${(error as Error).message}`);
      return true;
    }
  }

  private isDuplicate(eventId: string): boolean {
    if (this.seenEventIds.has(eventId)) return true;
    this.seenEventIds.add(eventId);
    if (this.seenEventIds.size > SEEN_EVENT_IDS) {
      this.seenEventIds.delete(this.seenEventIds.values().next().value as string);
    }
    return false;
  }
}

/** A batch made only of scheduled second reads (`PlannedDelta.confirm`), no new event. */
function isConfirmation(batch: ChangeBatch): boolean {
  const { users, groups, confirming } = batch.changes;
  return !!confirming && confirming.users.size === users.size && confirming.groups.size === groups.size;
}

function describe(batch: ChangeBatch): string {
  const parts = [];
  if (batch.changes.users.size) parts.push(`${batch.changes.users.size} user(s)`);
  if (batch.changes.groups.size) parts.push(`${batch.changes.groups.size} group(s)`);
  return parts.join(', ');
}
