import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type { IncrementalEntityEventResult } from '@backstage/plugin-catalog-backend-module-incremental-ingestion';
import type { EventParams, EventsService } from '@backstage/plugin-events-node';
import { z } from 'zod';
import { classifyAuthentikError } from '../client/errors';
import { sleep } from '../util/sleep';
import { analyzeAuthentikWebhook } from './analyzeAuthentikWebhook';
import { ChangeBatch, ChangeCoalescer } from './ChangeCoalescer';
import { DeltaPlanner, PlannedDelta } from './DeltaPlanner';
import { RecentDeltasView } from './RecentDeltasView';
import { deltaTopic, webhookTopic } from './topics';

/** What the handler reports, for metrics and benchmarks. */
export interface EventsObserver {
  onWebhook?(outcome: 'accepted' | 'ignored' | 'duplicate'): void;
  onDelta?(info: { added: number; removed: number; requests: number; lagMs: number; hints: number }): void;
  onPlanFailure?(errorClass: string): void;
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
  /** When the objects a plan asks to confirm are read again (`PlannedDelta.confirm`). Default 3 s. */
  confirmAfterMs?: number;
}

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
  private readonly confirmations = new Set<NodeJS.Timeout>();

  constructor(private readonly options: AuthentikEventHandlerOptions) {
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
    if (hint.eventId && this.isDuplicate(hint.eventId)) {
      this.options.observer?.onWebhook?.('duplicate');
      return { type: 'ignored' };
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
    for (let attempt = 0; ; attempt++) {
      try {
        const delta = await this.options.planner.plan(batch.changes);
        await this.publish(delta, batch);
        this.scheduleConfirmation(delta);
        return;
      } catch (error) {
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
        await sleep(delays[attempt]);
      }
    }
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
