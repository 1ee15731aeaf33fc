import { getMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mockServices } from '@backstage/backend-test-utils';
import type { EventParams } from '@backstage/plugin-events-node';
import { AuthentikEventHandler } from './AuthentikEventHandler';
import { ChangeSet, DeltaPlanner, PlannedDelta } from './DeltaPlanner';
import { DeltaRemovalGuard } from './DeltaRemovalGuard';
import { RecentDeltasView } from './RecentDeltasView';
import { webhookTopic } from './topics';

const userUpdated = (pk: number): EventParams => ({
  topic: webhookTopic('default'),
  eventPayload: {
    version: 1,
    event_pk: randomUUID(),
    created: new Date().toISOString(),
    action: 'model_updated',
    model: { pk, app: 'authentik_core', name: `User ${pk}`, model_name: 'user' },
  },
});

function setup(plan: (changes: ChangeSet, signal?: AbortSignal) => Promise<PlannedDelta>, removalGuard?: DeltaRemovalGuard) {
  const published: EventParams[] = [];
  const refused: Array<[string, number]> = [];
  const logger = mockServices.logger.mock();
  const handler = new AuthentikEventHandler({
    instanceId: 'default',
    planner: { plan } as unknown as DeltaPlanner,
    view: { record: () => undefined } as unknown as RecentDeltasView,
    events: { publish: async (event: EventParams) => void published.push(event), subscribe: async () => undefined },
    logger,
    locationKey: 'authentik:default',
    coalesceWindowMs: 5,
    retryDelaysMs: [60_000],
    repairHint: 'the next full walk repairs it',
    observer: { onRefusedRemovals: (kind, count) => void refused.push([kind, count]) },
    removalGuard,
  });
  return { handler, published, refused, logger };
}

describe('AuthentikEventHandler', () => {
  it("a plan's signal takes a listener per request in flight without Node warning of a leak (webhooks and the event log's)", async () => {
    const limits: number[] = [];
    const { handler } = setup(async (_changes, signal) => {
      // 8 requests in flight, each with a timeout and a retry listening on the plan's signal:
      // above Node's default of 10, EventTarget warns "possible memory leak".
      limits.push(getMaxListeners(signal!));
      return { added: [], removed: [], requests: 0, confirm: { users: new Set(), groups: new Set() } };
    });
    await handler.onEvent(userUpdated(1));
    await new Promise(resolve => setTimeout(resolve, 50));
    const scheduler = new AbortController(); // the follower's task signal
    await handler.applyChanges({ users: new Set(['2']), groups: new Set() }, 1, Date.now(), scheduler.signal);
    expect(limits).toHaveLength(2);
    for (const limit of limits) expect(limit).toBeGreaterThanOrEqual(32);
    expect(getMaxListeners(scheduler.signal)).toBe(10); // the caller's signal is left as it was
    await handler.shutdown();
  });

  it('shutdown aborts the plan in flight and the wait before its retry, and drops hints not planned yet', async () => {
    const signals: AbortSignal[] = [];
    const { handler, published, logger } = setup(async (_changes, signal) => {
      signals.push(signal!);
      throw new Error('authentik is unavailable');
    });
    await handler.onEvent(userUpdated(1));
    await new Promise(resolve => setTimeout(resolve, 50)); // planned, failed, now waiting 60 s to retry
    await handler.onEvent(userUpdated(2)); // pending behind the running plan
    const started = Date.now();
    await handler.shutdown();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(published).toEqual([]);
    expect(logger.info).toHaveBeenCalledWith(expect.stringContaining('Stopped applying authentik changes'));
    await handler.onEvent(userUpdated(3));
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(signals).toHaveLength(1); // nothing is planned after shutdown
  });

  it('publishes a delta that removes many groups at once without its removals, and counts them', async () => {
    const removed = Array.from({ length: 10 }, (_, i) => ({ kind: 'Group' as const, name: `g${i}`, pk: String(i) }));
    const guard = new DeltaRemovalGuard({ rejectRemovalsAbovePercentage: 25, countInCatalog: async () => 10 });
    const { handler, published, refused, logger } = setup(async () => ({ added: [], removed, requests: 2, confirm: { users: new Set<string>(), groups: new Set<string>() } }), guard);
    await handler.onEvent(userUpdated(1));
    await handler.idle();
    expect(published).toHaveLength(1);
    expect(published[0].eventPayload).toMatchObject({ added: [], removed: [] });
    expect(refused).toEqual([['Group', 10]]);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('Refused to remove 10 Group entities of 10'));
  });
});
