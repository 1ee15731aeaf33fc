import { LoggerService } from '@backstage/backend-plugin-api';
import { AuthentikEventLogApi } from '../client/AuthentikClient';
import { AuthentikPermissionError, classifyAuthentikError } from '../client/errors';
import { AuthentikLogEvent } from '../client/eventSchemas';
import { analyzeAuthentikLogEvent, AuthentikChangeHint, hintRecordedAt } from '../events/analyzeAuthentikWebhook';
import { ChangeSet } from '../events/DeltaPlanner';
import { EventLogStore, Watermark } from './EventLogStore';
import { WalkRequestOutcome } from './FullWalkRequester';

/** Why the log could not be replayed and a full walk was requested instead. */
export type EventLogGap = 'watermark-lost' | 'outage' | 'too-many-events';

/** What the follower reports, for metrics. */
export interface EventLogObserver {
  /** Events applied by one poll (claimed by nobody before) and skipped as already applied. */
  onApplied?(applied: number, duplicates: number): void;
  /** now − `created` of the newest event applied; 0 when the poll found nothing new. */
  onLag?(lagMs: number): void;
  onGap?(reason: EventLogGap): void;
}

export interface EventLogFollowerOptions {
  instanceId: string;
  api: AuthentikEventLogApi;
  store: EventLogStore;
  /** Plans and publishes a change set through the webhook path's planner; rejects on failure. */
  apply(changes: ChangeSet, hints: number, firstReceivedAt: number, signal?: AbortSignal): Promise<void>;
  requestWalk(): Promise<WalkRequestOutcome>;
  logger: LoggerService;
  pageSize: number;
  /** Longer without a successful poll than this → a full walk instead of a replay. */
  maxOutageMs: number;
  /** More new events than this in one poll → a full walk instead of a replay. Default 10 000. */
  maxReplayEvents?: number;
  /**
   * Events applied by one poll at most (the oldest first; the next poll goes on from
   * there), so that one poll stays short. Default 500.
   */
  maxEventsPerPoll?: number;
  observer?: EventLogObserver;
  now?: () => number;
}

const ACTIONS = ['model_created', 'model_updated', 'model_deleted'];
const SYNCED_APP = 'authentik_core';

/** Result of reading the log newest-first down to the watermark. */
type LogRead =
  | { kind: 'reached'; newer: AuthentikLogEvent[] }
  | { kind: 'gap'; reason: EventLogGap; detail: string };

/**
 * Follows authentik's event log for one instance: every poll reads the `model_*` events of
 * `authentik_core` newest first down to the watermark (the newest event already applied,
 * stored in the database and shared by replicas), applies the users and groups among the
 * newer ones oldest first through the same planner as webhooks, and only then moves the
 * watermark. Events a webhook (or another replica) already applied are skipped by pk.
 *
 * The first poll ever only sets the watermark: the first full walk covers the past. When
 * the log cannot be replayed (the watermark event is gone, the follower was down longer
 * than `maxOutage`, too many events), it says so and requests a full walk.
 */
export class EventLogFollower {
  private forbidden = false;
  private walkPending = false;

  constructor(private readonly options: EventLogFollowerOptions) {}

  /** One poll. Never throws for authentik or database failures: it logs and retries next time. */
  async poll(signal?: AbortSignal): Promise<void> {
    try {
      await this.pollOnce(signal);
      if (this.forbidden) {
        this.forbidden = false;
        this.options.logger.info('authentik event log is readable again; following it');
      }
    } catch (error) {
      if (signal?.aborted) return;
      this.report(error);
    }
  }

  private async pollOnce(signal?: AbortSignal): Promise<void> {
    const { store, instanceId } = this.options;
    if (this.walkPending) await this.requestWalk();
    const now = this.now();
    const watermark = await store.watermark(instanceId);
    if (!watermark) {
      const newest = await this.newestEvent(signal);
      await store.saveWatermark(instanceId, markOf(newest, now));
      this.options.logger.info(
        `Following authentik's event log from ${newest ? `event ${newest.pk} (${newest.created})` : 'its (empty) start'}; earlier changes are covered by full walks`,
      );
      this.options.observer?.onLag?.(0);
      return;
    }
    if (now - watermark.checkedAtMs > this.options.maxOutageMs) {
      const downFor = Math.round((now - watermark.checkedAtMs) / 1000);
      await this.gap('outage', `the event log was last read ${downFor} s ago, longer than events.maxOutage`, now, signal);
      return;
    }
    const read = await this.readDownTo(watermark, signal);
    if (read.kind === 'gap') {
      await this.gap(read.reason, read.detail, now, signal);
      return;
    }
    await this.apply(read.newer, now, signal);
  }

  /**
   * Applies the oldest `maxEventsPerPoll` of `newer` (newest first), then moves the
   * watermark to the newest of those.
   */
  private async apply(allNewer: AuthentikLogEvent[], now: number, signal?: AbortSignal): Promise<void> {
    const { store, instanceId } = this.options;
    const newer = allNewer.slice(-(this.options.maxEventsPerPoll ?? 500));
    if (newer.length === 0) {
      await store.touch(instanceId, now);
      this.options.observer?.onLag?.(0);
      return;
    }
    const hints = new Map<string, AuthentikChangeHint>();
    for (const event of [...newer].reverse()) {
      const analysis = analyzeAuthentikLogEvent(event);
      if (analysis.result === 'ok' && analysis.hint.eventId) hints.set(analysis.hint.eventId, analysis.hint);
      else if (analysis.result === 'invalid') this.options.logger.warn(`Skipping authentik event ${event.pk}: ${analysis.reason}`);
    }
    const claimed = await store.claim(instanceId, [...hints.keys()], now);
    const changes: ChangeSet = { users: new Set(), groups: new Set(), groupNames: new Set() };
    for (const [eventId, hint] of hints) {
      if (!claimed.has(eventId)) continue;
      // The oldest applied event's time (authentik's clock, as `last_updated` is).
      const created = hintRecordedAt(hint);
      if (created !== undefined) changes.since = Math.min(changes.since ?? created, created);
      (hint.model === 'user' ? changes.users : changes.groups).add(hint.pk);
      if (hint.model === 'group' && hint.name) changes.groupNames?.add(hint.name);
    }
    if (claimed.size > 0) {
      try {
        // Received "now": the delta lag metric stays the time to plan; the event's own age is onLag.
        await this.options.apply(changes, claimed.size, now, signal);
      } catch (error) {
        // Give the claims back: the watermark stays, so the next poll applies them again.
        await store.release(instanceId, [...claimed]).catch(() => undefined);
        throw error;
      }
      this.options.logger.info(
        `authentik event log: applied ${claimed.size} change(s) (${hints.size - claimed.size} already applied by a webhook or another replica)`,
      );
    }
    this.options.observer?.onApplied?.(claimed.size, hints.size - claimed.size);
    const newest = newer[0];
    await store.saveWatermark(instanceId, markOf(newest, now));
    await store.prune(instanceId, now - this.options.maxOutageMs - 3_600_000);
    this.options.observer?.onLag?.(claimed.size > 0 ? Math.max(0, now - Date.parse(newest.created)) : 0);
  }

  /**
   * Pages newest first until the watermark event. authentik has no "created after" filter;
   * pages shift down while events are added (so an event may be seen twice: de-duplicated
   * by pk), never up past the watermark.
   */
  private async readDownTo(watermark: Watermark, signal?: AbortSignal): Promise<LogRead> {
    const maxEvents = this.options.maxReplayEvents ?? 10_000;
    const newer: AuthentikLogEvent[] = [];
    const seen = new Set<string>();
    const lost: LogRead = {
      kind: 'gap',
      reason: 'watermark-lost',
      detail: `the last applied event ${watermark.eventPk} is no longer in the event log (retention or a cleared log)`,
    };
    // Events created in the same instant as the watermark may be listed after it (ties
    // have no order): once it is found, those are read too (claims skip the applied ones).
    let reached = watermark.eventPk === null;
    for (let page = 1; ; page++) {
      const result = await this.options.api.listEvents({
        page,
        pageSize: this.options.pageSize,
        actions: ACTIONS,
        modelApp: SYNCED_APP,
        signal,
      });
      for (const event of result?.results ?? []) {
        const pk = undashed(event.pk);
        if (Date.parse(event.created) < watermark.createdMs) return reached ? { kind: 'reached', newer } : lost;
        if (pk === watermark.eventPk) {
          reached = true;
          continue;
        }
        if (seen.has(pk)) continue;
        seen.add(pk);
        newer.push(event);
        if (newer.length > maxEvents) {
          return { kind: 'gap', reason: 'too-many-events', detail: `more than ${maxEvents} changes since the last read` };
        }
      }
      if (!result || result.pagination.next === 0) return reached ? { kind: 'reached', newer } : lost;
    }
  }

  /** Says so, requests a full walk, and follows the log from its newest event on. */
  private async gap(reason: EventLogGap, detail: string, now: number, signal?: AbortSignal): Promise<void> {
    this.options.observer?.onGap?.(reason);
    const newest = await this.newestEvent(signal);
    await this.options.store.saveWatermark(this.options.instanceId, markOf(newest, now));
    this.walkPending = true;
    const outcome = await this.requestWalk();
    this.options.logger.warn(
      `authentik event log gap (${reason}): ${detail}. Changes in between cannot be replayed: ` +
        `${outcome === 'walk-running' ? 'a full walk is requested for when the running one ends' : 'a full walk starts now'}; ` +
        `the log is followed again from ${newest ? `event ${newest.pk}` : 'its start'}.`,
    );
    this.options.observer?.onLag?.(0);
  }

  private async requestWalk(): Promise<WalkRequestOutcome> {
    const outcome = await this.options.requestWalk();
    if (outcome !== 'walk-running') this.walkPending = false;
    return outcome;
  }

  private async newestEvent(signal?: AbortSignal): Promise<AuthentikLogEvent | undefined> {
    const page = await this.options.api.listEvents({ page: 1, pageSize: 1, actions: ACTIONS, modelApp: SYNCED_APP, signal });
    return page?.results[0];
  }

  private report(error: unknown): void {
    if (error instanceof AuthentikPermissionError) {
      if (!this.forbidden) {
        this.forbidden = true;
        this.options.logger.warn(
          `authentik refused to list its event log (${error.status}): the token's user lacks the permission ` +
            'authentik_events.view_event. Fix: add it to the role (or group) that holds authentik_core.view_user ' +
            '(the bundled blueprint grants it). Until then changes missed by webhooks wait for the next full walk; ' +
            'walks and webhooks keep working.',
        );
      }
      return;
    }
    this.options.logger.warn(
      `Reading authentik's event log failed (${classifyAuthentikError(error)}): ${(error as Error).message}; retrying at the next poll`,
    );
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function markOf(event: AuthentikLogEvent | undefined, now: number): Watermark {
  return event
    ? { eventPk: undashed(event.pk), createdMs: Date.parse(event.created), checkedAtMs: now }
    : { eventPk: null, createdMs: 0, checkedAtMs: now };
}

function undashed(pk: string): string {
  return pk.replace(/-/g, '').toLowerCase();
}
