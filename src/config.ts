import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { sanitizeName } from './mapping/names';

const ROOT_KEY = 'catalog.providers.authentik';

/** When full walks run, mapped onto the incremental engine (see README "Schedule"). */
export type WalkSchedule =
  | { kind: 'rest'; rest: HumanDuration }
  | { kind: 'cron'; cron: string };

/** Everything the module needs to know about one authentik instance. */
export interface AuthentikInstanceConfig {
  /** `default` for the spec's single-instance form, else the key under `authentik`. */
  id: string;
  baseUrl: string;
  token: string;
  excludeGroups: string[];
  includeServiceAccounts: boolean;
  schedule: {
    frequency: WalkSchedule;
    timeout: HumanDuration;
    initialDelay: HumanDuration;
    scope: 'global' | 'local';
  };
  webhook: {
    secret?: string;
    header: string;
    dangerouslyAllowUnauthenticated: boolean;
    coalesceWindow: HumanDuration;
  };
  /** How changes arrive between full walks (README "Missed webhooks and poll mode"). */
  events: {
    /** `webhook`: webhooks only; `poll`: the event log only; `both`: webhooks + the log as a safety net. */
    mode: EventsMode;
    /** How often the event log is read. */
    pollInterval: HumanDuration;
    /** A follower idle longer than this requests a full walk instead of replaying. */
    maxOutage: HumanDuration;
  };
  incremental: {
    pageSize: number;
    concurrency: number;
    burstLength: HumanDuration;
    burstInterval: HumanDuration;
    backoff: HumanDuration[];
    rejectRemovalsAbovePercentage: number;
    rejectEmptySourceCollections: boolean;
  };
}

export type EventsMode = 'webhook' | 'poll' | 'both';

const DEFAULT_BACKOFF: HumanDuration[] = [
  { seconds: 30 },
  { minutes: 2 },
  { minutes: 10 },
  { minutes: 30 },
];

const instanceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_"');

const plainSchema = z.object({
  baseUrl: z.string().min(1),
  token: z.string().min(1),
  excludeGroups: z.array(z.string()).default([]),
  includeServiceAccounts: z.boolean().default(false),
  schedule: z
    .object({ scope: z.enum(['global', 'local']).default('global') })
    .passthrough()
    .default({}),
  webhook: z
    .object({
      secret: z.string().optional().transform(v => v || undefined),
      header: z.string().min(1).default('authorization'),
      dangerouslyAllowUnauthenticated: z.boolean().default(false),
    })
    .passthrough()
    .default({}),
  events: z
    .object({ mode: z.enum(['webhook', 'poll', 'both']).optional() })
    .passthrough()
    .default({}),
  incremental: z
    .object({
      pageSize: z.number().int().min(1).max(1000).default(100),
      concurrency: z.number().int().min(1).max(32).default(8),
      rejectRemovalsAbovePercentage: z.number().min(0).max(100).default(25),
      rejectEmptySourceCollections: z.boolean().default(true),
    })
    .passthrough()
    .default({}),
});

/**
 * Reads every configured authentik instance. Throws an `InputError` naming the key on any
 * invalid value; never includes the token in a message.
 */
export function readAuthentikConfigs(config: Config): AuthentikInstanceConfig[] {
  const root = config.getOptionalConfig(ROOT_KEY);
  if (!root) {
    return [];
  }
  if (root.has('baseUrl')) {
    return [readInstance(root, 'default', ROOT_KEY)];
  }
  return root.keys().map(id => {
    const key = `${ROOT_KEY}.${id}`;
    const parsedId = instanceIdSchema.safeParse(id);
    if (!parsedId.success) {
      throw new InputError(`Invalid config at ${key}: instance id ${parsedId.error.issues[0].message}`);
    }
    return readInstance(root.getConfig(id), id, key);
  });
}

function readInstance(config: Config, id: string, key: string): AuthentikInstanceConfig {
  const parsed = plainSchema.safeParse(config.get());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = [key, ...issue.path].join('.');
    // zod never echoes the offending value for these checks, so the token cannot leak here.
    throw new InputError(`Invalid config at ${where}: ${issue.message}`);
  }
  const plain = parsed.data;
  const durationAt = (sub: string, fallback: HumanDuration) =>
    config.has(sub) ? readDuration(config, sub, `${key}.${sub}`) : fallback;

  for (const name of plain.excludeGroups) {
    if (sanitizeName(name) !== name) {
      throw new InputError(
        `Invalid config at ${key}.excludeGroups: "${name}" is not a sanitised group name; write "${sanitizeName(name)}" instead`,
      );
    }
  }

  // Webhooks that can be authenticated: use them, with the log as a safety net; otherwise
  // nothing would ever arrive between walks, so read the log.
  const webhooksUsable = Boolean(plain.webhook.secret) || plain.webhook.dangerouslyAllowUnauthenticated;
  const eventsMode = plain.events.mode ?? (webhooksUsable ? 'both' : 'poll');

  return {
    id,
    baseUrl: readBaseUrl(plain.baseUrl, `${key}.baseUrl`),
    token: plain.token,
    excludeGroups: plain.excludeGroups,
    includeServiceAccounts: plain.includeServiceAccounts,
    schedule: {
      frequency: readFrequency(config, key),
      timeout: durationAt('schedule.timeout', { minutes: 3 }),
      initialDelay: durationAt('schedule.initialDelay', { seconds: 15 }),
      scope: plain.schedule.scope,
    },
    webhook: {
      secret: plain.webhook.secret,
      header: plain.webhook.header.toLowerCase(),
      dangerouslyAllowUnauthenticated: plain.webhook.dangerouslyAllowUnauthenticated,
      coalesceWindow: durationAt('webhook.coalesceWindow', { milliseconds: 250 }),
    },
    events: {
      mode: eventsMode,
      pollInterval: durationAt('events.pollInterval', eventsMode === 'both' ? { seconds: 60 } : { seconds: 5 }),
      maxOutage: durationAt('events.maxOutage', { hours: 24 }),
    },
    incremental: {
      pageSize: plain.incremental.pageSize,
      concurrency: plain.incremental.concurrency,
      burstLength: durationAt('incremental.burstLength', defaultBurstLength(config, key)),
      burstInterval: durationAt('incremental.burstInterval', { seconds: 5 }),
      backoff: config.has('incremental.backoff')
        ? config
            .getConfigArray('incremental.backoff')
            .map((c, i) => readDuration(c, undefined, `${key}.incremental.backoff[${i}]`))
        : DEFAULT_BACKOFF,
      rejectRemovalsAbovePercentage: plain.incremental.rejectRemovalsAbovePercentage,
      rejectEmptySourceCollections: plain.incremental.rejectEmptySourceCollections,
    },
  };
}

/** Root URL only: `/if/admin/…` or `/api/v3/…` are common copy-paste mistakes. */
function readBaseUrl(raw: string, key: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`Invalid config at ${key}: "${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`Invalid config at ${key}: use an http(s) URL`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  const misplaced = path.match(/\/(if|api)(\/|$)/);
  if (misplaced) {
    const root = `${url.origin}${path.slice(0, misplaced.index)}`;
    throw new InputError(
      `Invalid config at ${key}: "${raw}" points into authentik (${misplaced[0]}…); write the root URL "${root}" instead`,
    );
  }
  return `${url.origin}${path}`;
}

function readFrequency(config: Config, key: string): WalkSchedule {
  if (config.has('schedule.frequency.cron')) {
    const cron = config.getString('schedule.frequency.cron');
    if (cron.trim().split(/\s+/).length < 5) {
      throw new InputError(`Invalid config at ${key}.schedule.frequency.cron: "${cron}" is not a cron expression`);
    }
    return { kind: 'cron', cron };
  }
  if (config.has('schedule.frequency')) {
    return { kind: 'rest', rest: readDuration(config, 'schedule.frequency', `${key}.schedule.frequency`) };
  }
  return { kind: 'rest', rest: { minutes: 30 } };
}

/** The engine releases a burst after burstLength + 1 minute: `timeout` bounds that. */
function defaultBurstLength(config: Config, key: string): HumanDuration {
  const timeout = config.has('schedule.timeout')
    ? readDuration(config, 'schedule.timeout', `${key}.schedule.timeout`)
    : { minutes: 3 };
  const ms = durationToMs(timeout) - 60_000;
  return { milliseconds: Math.max(ms, 10_000) };
}

function readDuration(config: Config, sub: string | undefined, key: string): HumanDuration {
  try {
    const duration = readDurationFromConfig(config, sub ? { key: sub } : undefined);
    if (durationToMs(duration) < 0) {
      throw new Error('must not be negative');
    }
    return duration;
  } catch (error) {
    throw new InputError(`Invalid config at ${key}: ${(error as Error).message}`);
  }
}

const MS_PER_UNIT: Record<keyof HumanDuration, number> = {
  years: 365 * 86_400_000,
  months: 30 * 86_400_000,
  weeks: 7 * 86_400_000,
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
  milliseconds: 1,
};

export function durationToMs(duration: HumanDuration): number {
  return (Object.keys(duration) as Array<keyof HumanDuration>).reduce(
    (sum, unit) => sum + (duration[unit] ?? 0) * MS_PER_UNIT[unit],
    0,
  );
}
