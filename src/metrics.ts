import type { MetricsService } from '@backstage/backend-plugin-api/alpha';
import { AuthentikClientOptions } from './client/AuthentikClient';
import { EventsObserver } from './events/AuthentikEventHandler';
import { WalkObserver } from './incremental/AuthentikEntityProvider';
import { EventLogObserver } from './eventlog/EventLogFollower';

/**
 * The module's OpenTelemetry instruments (through Backstage's metrics service). Every
 * instrument carries the `instance` attribute. Names are documented in the README.
 */
export interface AuthentikMetrics {
  walk: WalkObserver;
  events: EventsObserver;
  eventLog: EventLogObserver;
  onRequest: NonNullable<AuthentikClientOptions['onRequest']>;
  webhookRejected(status: number): void;
  strandedEntities(count: number): void;
}

export function createAuthentikMetrics(metrics: MetricsService, instance: string): AuthentikMetrics {
  const requests = metrics.createCounter('catalog_authentik.api.requests', {
    description: 'HTTP requests made to the authentik API',
  });
  const apiErrors = metrics.createCounter('catalog_authentik.api.errors', {
    description: 'Failed authentik API requests, by class: permission, rate_limited, server, network',
  });
  const pages = metrics.createCounter('catalog_authentik.walk.pages', {
    description: 'Pages of users or groups fetched by full walks',
  });
  const entities = metrics.createCounter('catalog_authentik.walk.entities', {
    description: 'User and Group entities emitted by full walks',
  });
  const webhooks = metrics.createCounter('catalog_authentik.webhooks', {
    description: 'authentik webhooks, by outcome: accepted, ignored, duplicate, rejected',
  });
  const deltas = metrics.createCounter('catalog_authentik.deltas.entities', {
    description: 'Entities upserted or removed by webhook deltas, by operation: upsert, remove',
  });
  const planFailures = metrics.createCounter('catalog_authentik.deltas.failures', {
    description: 'Attempts to compute a webhook delta that failed, by error class',
  });
  const lag = metrics.createHistogram('catalog_authentik.deltas.lag', {
    description: 'Time from receiving a webhook to handing its delta to the catalog',
    unit: 'ms',
  });
  const refusedRemovals = metrics.createCounter('catalog_authentik.deltas.refused_removals', {
    description: 'Entities a webhook delta was not allowed to remove (too many of one kind at once), by kind',
  });
  const stranded = metrics.createGauge('catalog_authentik.stranded_entities', {
    description: 'Entities left in the catalog by a sweep the removal guard refused, not yet repaired',
  });
  const logEvents = metrics.createCounter('catalog_authentik.event_log.events', {
    description: 'User and group events read from the authentik event log, by outcome: applied, duplicate (a webhook or another replica applied it)',
  });
  const logLag = metrics.createGauge('catalog_authentik.event_log.lag', {
    description: 'After each poll of the event log: now minus the creation time of the newest event it applied (0 when nothing was new)',
    unit: 'ms',
  });
  const logGaps = metrics.createCounter('catalog_authentik.event_log.gaps', {
    description: 'Times the event log could not be replayed and a full walk was requested, by reason: watermark-lost, outage, too-many-events',
  });

  return {
    eventLog: {
      onApplied: (applied, duplicates) => {
        logEvents.add(applied, { instance, outcome: 'applied' });
        logEvents.add(duplicates, { instance, outcome: 'duplicate' });
      },
      onLag: lagMs => logLag.record(lagMs, { instance }),
      onGap: reason => logGaps.add(1, { instance, reason }),
    },
    walk: {
      onPage: (kind, count) => pages.add(count, { instance, kind }),
      onEntities: (kind, count) => entities.add(count, { instance, kind }),
    },
    events: {
      onWebhook: outcome => webhooks.add(1, { instance, outcome }),
      onDelta: info => {
        deltas.add(info.added, { instance, operation: 'upsert' });
        deltas.add(info.removed, { instance, operation: 'remove' });
        lag.record(info.lagMs, { instance });
      },
      onPlanFailure: errorClass => planFailures.add(1, { instance, class: errorClass }),
      onRefusedRemovals: (kind, count) => refusedRemovals.add(count, { instance, kind }),
    },
    onRequest: ({ status }) => {
      requests.add(1, { instance });
      const errorClass = classifyStatus(status);
      if (errorClass) apiErrors.add(1, { instance, class: errorClass });
    },
    webhookRejected: status => webhooks.add(1, { instance, outcome: 'rejected', status: String(status) }),
    strandedEntities: count => stranded.record(count, { instance }),
  };
}

function classifyStatus(status: number | undefined): string | undefined {
  if (status === undefined) return 'network';
  if (status === 401 || status === 403) return 'permission';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return undefined;
}
