import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { incrementalIngestionProvidersExtensionPoint } from '@backstage/plugin-catalog-backend-module-incremental-ingestion';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { AuthentikClient } from './client/AuthentikClient';
import { AuthentikInstanceConfig, durationToMs, readAuthentikConfigs } from './config';
import { AuthentikEventHandler } from './events/AuthentikEventHandler';
import { CatalogServiceView } from './events/CatalogServiceView';
import { DeltaPlanner } from './events/DeltaPlanner';
import { DeltaRemovalGuard } from './events/DeltaRemovalGuard';
import { RecentDeltasView } from './events/RecentDeltasView';
import { authentikTransformersExtensionPoint, TransformerRegistry } from './extensions';
import { AuthentikEntityProvider, providerNameFor } from './incremental/AuthentikEntityProvider';
import { StrandedEntityRepair } from './incremental/StrandedEntityRepair';
import { SweepRecheck } from './incremental/SweepRecheck';
import { WalkRemovalGuard } from './incremental/WalkRemovalGuard';
import { deltaTopic } from './events/topics';
import { createAuthentikMetrics } from './metrics';
import { EventLogFollower } from './eventlog/EventLogFollower';
import { EventLogStore } from './eventlog/EventLogStore';
import { FullWalkRequester } from './eventlog/FullWalkRequester';

/**
 * The catalog side: one incremental entity provider per configured authentik instance,
 * with its webhook delta handler.
 */
export const catalogModuleAuthentik = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'authentik',
  register(env) {
    const transformers = new TransformerRegistry();
    env.registerExtensionPoint(authentikTransformersExtensionPoint, transformers);

    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        auth: coreServices.auth,
        incremental: incrementalIngestionProvidersExtensionPoint,
        events: eventsServiceRef,
        catalog: catalogServiceRef,
        database: coreServices.database,
        metrics: metricsServiceRef,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
      },
      async init({ config, logger, auth, incremental, events, catalog, database, metrics, scheduler, lifecycle }) {
        const maxBatchSize = await engineBatchLimit(() => database.getClient());
        const eventLogStore = new EventLogStore(() => database.getClient());
        // At shutdown, bursts in progress and webhook plans stop instead of holding the backend.
        const shutdown = new AbortController();
        lifecycle.addShutdownHook(() => shutdown.abort());
        for (const instance of readAuthentikConfigs(config)) {
          const log = logger.child({ authentikInstance: instance.id });
          if (instance.schedule.scope === 'local') {
            log.warn(
              'schedule.scope "local" has no effect: the incremental engine keeps one walk per instance in the database, shared by all replicas',
            );
          }
          const instanceMetrics = createAuthentikMetrics(metrics, instance.id);
          const api = new AuthentikClient({
            baseUrl: instance.baseUrl,
            token: instance.token,
            onRequest: instanceMetrics.onRequest,
          });
          const mapping = {
            instanceId: instance.id,
            baseUrl: instance.baseUrl,
            excludeGroups: instance.excludeGroups,
            includeServiceAccounts: instance.includeServiceAccounts,
          };
          const instanceTransformers = transformers.forInstance(instance.id);
          const catalogView = new CatalogServiceView(catalog, auth, instance.baseUrl);
          const view = new RecentDeltasView(catalogView, { lookup: refs => catalogView.entitiesAt(refs) });
          const planner = new DeltaPlanner({
            api,
            catalog: view,
            mapping,
            transformers: instanceTransformers,
            pageSize: instance.incremental.pageSize,
            concurrency: instance.incremental.concurrency,
            groupIndexTtlMs: directoryTtlMs(instance),
          });
          const removalGuard = new WalkRemovalGuard({
            database: () => database.getClient(),
            providerName: providerNameFor(instance.id),
            rejectRemovalsAbovePercentage: instance.incremental.rejectRemovalsAbovePercentage,
          });
          const provider = new AuthentikEntityProvider({
            config: instance,
            api,
            logger: log,
            transformers: instanceTransformers,
            observer: instanceMetrics.walk,
            maxBatchSize,
            shutdownSignal: shutdown.signal,
            onGroupsRead: (groups, readStartedAt) => planner.seedGroups(groups, readStartedAt),
            onUserPagesRead: pages => planner.seedUserPages(pages),
            removalGuard,
            sweepRecheck: new SweepRecheck({
              api,
              sweptRefs: unmarked => removalGuard.sweptRefs(unmarked),
              lookup: refs => catalogView.entitiesAt(refs),
              mapping,
              concurrency: instance.incremental.concurrency,
            }),
            strandedRepair: new StrandedEntityRepair({
              database: () => database.getClient(),
              providerName: providerNameFor(instance.id),
              logger: log,
              rejectRemovalsAbovePercentage: instance.incremental.rejectRemovalsAbovePercentage,
              remove: refs =>
                events.publish({ topic: deltaTopic(instance.id), eventPayload: { added: [], removed: refs } }),
              onStranded: instanceMetrics.strandedEntities,
            }),
          });
          const followLog = instance.events.mode !== 'webhook';
          const followerTaskId = `authentik-event-log:${instance.id}`;
          let lastTrigger = 0;
          const eventHandler = new AuthentikEventHandler({
            instanceId: instance.id,
            planner,
            view,
            events,
            logger: log,
            locationKey: providerNameFor(instance.id),
            coalesceWindowMs: durationToMs(instance.webhook.coalesceWindow),
            repairHint: repairHint(instance),
            observer: instanceMetrics.events,
            maxBatchSize,
            removalGuard: new DeltaRemovalGuard({
              rejectRemovalsAbovePercentage: instance.incremental.rejectRemovalsAbovePercentage,
              countInCatalog: kind => catalogView.count(kind),
            }),
            ...(followLog && {
              claims: { claim: eventIds => eventLogStore.claim(instance.id, eventIds, Date.now()) },
              onWebhookGap: () => {
                // Once per few seconds is enough (a burst of late webhooks, or clock skew).
                if (Date.now() - lastTrigger < 5000) return;
                lastTrigger = Date.now();
                scheduler.triggerTask(followerTaskId).catch(() => undefined); // already running: fine
              },
            }),
          });
          lifecycle.addShutdownHook(() => eventHandler.shutdown());
          provider.setEventHandler(eventHandler);
          incremental.addProvider({ provider, options: engineOptions(instance) });
          if (followLog) {
            const walks = new FullWalkRequester(() => database.getClient(), provider.getProviderName());
            const follower = new EventLogFollower({
              instanceId: instance.id,
              api,
              store: eventLogStore,
              apply: (changes, hints, firstReceivedAt, signal) => eventHandler.applyChanges(changes, hints, firstReceivedAt, signal),
              requestWalk: () => walks.request(),
              logger: log,
              pageSize: instance.incremental.pageSize,
              maxOutageMs: durationToMs(instance.events.maxOutage),
              observer: instanceMetrics.eventLog,
            });
            // One follower at a time across replicas (the scheduler's global lock), once the
            // catalog serves (deltas read it), then at least every pollInterval: the
            // scheduler checks for a due task once per frequency, so a run can start up to
            // two frequencies apart; half the interval keeps the promise. A late webhook
            // triggers it at once.
            lifecycle.addStartupHook(() =>
              scheduler.scheduleTask({
                id: followerTaskId,
                frequency: { milliseconds: Math.max(500, durationToMs(instance.events.pollInterval) / 2) },
                // A poll applies at most 500 events; an unclean stop holds the lock this long.
                timeout: { milliseconds: Math.max(60_000, durationToMs(instance.events.pollInterval)) },
                initialDelay: { seconds: 0 },
                scope: 'global',
                fn: signal => follower.poll(signal),
              }),
            );
          }
          log.info(`authentik instance "${instance.id}" at ${instance.baseUrl} registered as ${provider.getProviderName()}`);
        }
      },
    });
  },
});

/**
 * The engine inserts each batch's refs with one statement; SQLite accepts at most 500 rows
 * in one, so batches stay below that there. PostgreSQL takes far more.
 */
async function engineBatchLimit(getClient: () => Promise<{ client: { config: { client?: unknown } } }>) {
  const client = await getClient();
  return String(client.client.config.client ?? '').includes('sqlite') ? 500 : undefined;
}

function engineOptions(instance: AuthentikInstanceConfig) {
  const { incremental, schedule } = instance;
  return {
    burstLength: incremental.burstLength,
    burstInterval: incremental.burstInterval,
    // A duration frequency is the rest between walks; a cron frequency is enforced by the
    // provider itself (it waits for the next occurrence), so the engine barely rests.
    restLength: schedule.frequency.kind === 'rest' ? schedule.frequency.rest : { seconds: 1 },
    backoff: incremental.backoff,
    rejectRemovalsAbovePercentage: incremental.rejectRemovalsAbovePercentage,
    rejectEmptySourceCollections: incremental.rejectEmptySourceCollections,
  };
}

function repairHint(instance: AuthentikInstanceConfig): string {
  const { frequency } = instance.schedule;
  return frequency.kind === 'cron'
    ? `the next full walk (cron "${frequency.cron}") repairs it`
    : `the next full walk (at most ${JSON.stringify(frequency.rest)} after the current one ends) repairs it`;
}

/**
 * How long the webhook path trusts its group directory before reading every group again in
 * the background: the walk's rest plus 10 minutes for the walk itself (each walk hands the
 * groups it read over, so a replica that walks never reads them for the webhooks). A cron
 * schedule keeps the planner's default (10 minutes).
 */
function directoryTtlMs(instance: AuthentikInstanceConfig): number | undefined {
  const { frequency } = instance.schedule;
  return frequency.kind === 'rest' ? durationToMs(frequency.rest) + 10 * 60_000 : undefined;
}
