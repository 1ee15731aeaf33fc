import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';
import { HumanDuration } from '@backstage/types';

/**
 * One authentik instance to ingest from.
 */
export interface AuthentikProviderConfig {
  /**
   * Root URL of the authentik instance, e.g. https://authentik.example.com.
   * Not a path such as /if/admin/ or /api/v3/. A trailing slash is stripped.
   */
  baseUrl: string;

  /**
   * API token (intent "API Token", not expiring) of a user holding
   * authentik_core.view_user and authentik_core.view_group.
   * @visibility secret
   */
  token: string;

  /**
   * Groups to skip, by sanitised name (lowercased, every character outside
   * [a-z0-9-_.] replaced by "-"): "Authentik Admins" is listed as "authentik-admins".
   */
  excludeGroups?: string[];

  /**
   * Also ingest users of type service_account and internal_service_account.
   * @default false
   */
  includeServiceAccounts?: boolean;

  /**
   * When full walks run. Defaults: frequency { minutes: 30 }, timeout { minutes: 3 },
   * initialDelay { seconds: 15 }, scope 'global'.
   */
  schedule?: Partial<SchedulerServiceTaskScheduleDefinitionConfig>;

  /**
   * authentik notification webhooks (POST <backend>/api/events/http/authentik).
   */
  webhook?: {
    /**
     * Shared secret that authentik's webhook header mapping sends as
     * "Authorization: Bearer <secret>". Without it every delivery is rejected.
     * @visibility secret
     */
    secret?: string;
    /**
     * Request header that carries the secret.
     * @default authorization
     */
    header?: string;
    /**
     * Accept deliveries without checking any secret. Dangerous: anyone who can reach the
     * backend can then make the catalog re-read authentik objects.
     * @default false
     */
    dangerouslyAllowUnauthenticated?: boolean;
    /**
     * How long events for the same objects are collected before authentik is re-read.
     * @default { milliseconds: 250 }
     */
    coalesceWindow?: HumanDuration | string;
  };

  /**
   * How changes reach the catalog between full walks. authentik's event log (read with
   * authentik_events.view_event) catches up what webhooks missed: Backstage down or
   * restarting, a dropped delivery, or no inbound route at all.
   */
  events?: {
    /**
     * webhook: webhooks only (the log is not read). poll: the event log only, every
     * pollInterval; needs no inbound route to Backstage. both: webhooks for speed, the log
     * as a safety net. Default: both when webhook.secret (or
     * webhook.dangerouslyAllowUnauthenticated) is set, poll otherwise.
     */
    mode?: 'webhook' | 'poll' | 'both';
    /**
     * How often the event log is read (one replica at a time). Default { seconds: 60 } in
     * mode both, { seconds: 5 } in mode poll.
     */
    pollInterval?: HumanDuration | string;
    /**
     * When the log was last read longer ago than this (Backstage down, authentik
     * unreachable), the missed changes are not replayed: a full walk runs instead.
     * @default { hours: 24 }
     */
    maxOutage?: HumanDuration | string;
  };

  /**
   * Tuning of the incremental ingestion engine and of the walk. All optional.
   */
  incremental?: {
    /** Requested page size; authentik caps it (100 by default from 2025.12). @default 100 */
    pageSize?: number;
    /** Pages fetched at once. @default 8 */
    concurrency?: number;
    /** Longest a burst runs before it rests. Default: schedule.timeout minus 1 minute (at least 10 s). */
    burstLength?: HumanDuration | string;
    /** Pause between bursts of one walk (the engine's minimum is 5 s). @default { seconds: 5 } */
    burstInterval?: HumanDuration | string;
    /** Waits after consecutive errors (the last one repeats). @default [30s, 2m, 10m, 30m] */
    backoff?: Array<HumanDuration | string>;
    /** Refuse a sweep that would remove more than this share of entities. @default 25 */
    rejectRemovalsAbovePercentage?: number;
    /** Refuse a sweep when a walk found nothing at all. @default true */
    rejectEmptySourceCollections?: boolean;
  };
}

export interface Config {
  catalog?: {
    providers?: {
      /**
       * authentik: either one instance (the usual form) or a map from an instance id to its
       * configuration, for several authentik instances side by side.
       */
      authentik?: AuthentikProviderConfig | { [instanceId: string]: AuthentikProviderConfig };
    };
  };
}
