/**
 * A REAL Backstage backend for integration tests: catalog + incremental ingestion + events +
 * this package, on better-sqlite3 or PostgreSQL, fed by the bundled demo authentik.
 *
 * What is real: every plugin and module, the database service, the scheduler (its tick is
 * only shortened, see `tickIntervalMs`), ONE events service shared by all plugins (the
 * events plugin's HTTP ingress publishes into the same bus the incremental engine
 * subscribes to), the HTTP server. What is mocked: auth (mock credentials are accepted by
 * every route), permissions (allow), the root logger (captured in memory, see `logs`).
 */
import { randomBytes } from 'node:crypto';
import { coreServices, createServiceFactory, SchedulerServiceTaskScheduleDefinition } from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { DatabaseManager } from '@backstage/backend-defaults/database';
import { DefaultSchedulerService } from '@backstage/backend-defaults/scheduler';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { Knex } from 'knex';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import type { JsonObject, JsonValue } from '@backstage/types';
import {
  DemoAuthentik,
  DemoAuthentikOptions,
  DemoDirectory,
  SEED_EXCLUDED_GROUP,
  seedDemoDirectory,
  startDemoAuthentik,
  WebhookDispatcher,
  WebhookOptions,
} from '../../dev/demo-authentik';
import { LogCapture } from './capturingLogger';
import { configureBackstageTestDatabaseEnv, dropDatabasesWithPrefix, postgresConnection } from './postgres';

export { describeIfPostgres, isPostgresAvailable, isPostgresAvailableSync } from './postgres';
export { LogCapture } from './capturingLogger';
export type { LogRecord } from './capturingLogger';

export type TestDatabase = 'sqlite' | 'postgres';

/** The provider's engine name and admin routes (`authentik:<instance id>`). */
export const PROVIDER_NAME = 'authentik:default';
/** The events topic of the default instance: `POST /api/events/http/authentik`. */
export const WEBHOOK_PATH = '/api/events/http/authentik';

export interface AuthentikTestBackendOptions {
  /** Default `sqlite` (in-memory better-sqlite3). `postgres`: fresh databases per backend. */
  database?: TestDatabase;
  /**
   * Keep the databases for a later backend (a restart, a second replica): for `postgres`
   * the database name prefix (`/^[a-z0-9_]+$/`), for `sqlite` a directory for the files.
   * Not dropped by `stop()`: the caller cleans up (see `dropDatabasesWithPrefix`).
   */
  persistentDatabase?: string;
  /**
   * Use this demo authentik (not stopped by `stop()`; pass its `token` too); otherwise one is
   * started on port 0.
   */
  demo?: DemoAuthentik;
  /** Directory of the demo started here. Default: `seedDemoDirectory()`. */
  directory?: DemoDirectory;
  /** Extra options of the demo started here (latency, page-size caps, API shape). */
  demoOptions?: Partial<Omit<DemoAuthentikOptions, 'directory' | 'token' | 'webhook'>>;
  /** authentik API token. Default: a random, recognisable string (for leak checks). */
  token?: string;
  /** `webhook.secret`. `undefined` (default): no secret configured. */
  webhookSecret?: string;
  /**
   * Merged (deeply; arrays replaced) over the generated `catalog.providers.authentik`
   * block: `excludeGroups`, `webhook.dangerouslyAllowUnauthenticated`, `incremental`…
   */
  provider?: JsonObject;
  /** Merged over the generated `schedule` (frequency 30 min, timeout 3 min, initialDelay 0). */
  schedule?: JsonObject;
  /** Merged over the whole generated config. */
  config?: JsonObject;
  /**
   * The scheduler tick of the provider's engine task. The engine never ticks faster than
   * every 5 s (its burstInterval floor); tests shorten it to this many ms so that a
   * triggered walk (rest → complete → new ingestion) takes ~2 ticks, not ~10 s. `0` keeps
   * the engine's own cadence. Default 500.
   */
  tickIntervalMs?: number;
  /** Wait for the first full walk to complete before returning. Default true. */
  waitForFirstWalk?: boolean;
  /** Label of printed log lines (see `AUTHENTIK_TEST_LOG_LEVEL`). */
  label?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Says what was awaited when the wait times out. */
  description?: string;
}

export interface ProviderStatus {
  success: boolean;
  status: { current_action?: string; next_action_at?: string };
  last_error?: string | null;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
  text: string;
}

/** Extra or replacing request headers; `{ authorization: undefined }` removes the secret. */
export type WebhookHeaders = Record<string, string | undefined>;

export interface PostWebhookOptions {
  /** Raw body sent as is (instead of `JSON.stringify(body)`). */
  raw?: string | Buffer;
  /** Default `application/json`. */
  contentType?: string;
}

export interface WebhookSender {
  dispatcher: WebhookDispatcher;
  /** Resolves when every queued delivery has been answered (or given up). */
  idle(): Promise<void>;
  stop(): void;
}

export interface AuthentikTestBackend {
  /** The test backend's HTTP server (`server.port()`). */
  readonly server: { port(): number };
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly catalogUrl: string;
  readonly webhookUrl: string;
  readonly demo: DemoAuthentik;
  readonly directory: DemoDirectory;
  readonly token: string;
  readonly webhookSecret?: string;
  readonly database: TestDatabase;
  /** Every log line of the backend, debug included. */
  readonly logs: LogCapture;
  /** The generated config (for inspection). */
  readonly config: JsonObject;

  /** Authenticated request to the backend (mock service credentials). */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** User and Group entities from `GET /api/catalog/entities`. */
  getEntities(): Promise<Entity[]>;
  getEntity(kind: string, name: string): Promise<Entity | undefined>;
  /** `ref → etag` of every entity (sorted), to prove nothing changed. */
  snapshot(): Promise<Map<string, string>>;
  /** Polls `check` until it returns a truthy value without throwing; returns that value. */
  waitFor<T>(check: () => T | Promise<T>, options?: WaitOptions | number): Promise<NonNullable<T>>;
  /** Asserts `check` keeps passing (not throwing, not returning false) for `durationMs`. */
  expectStable(check: () => unknown, durationMs: number, intervalMs?: number): Promise<void>;

  /**
   * POSTs `body` (JSON) to the authentik webhook route, with `Authorization: Bearer <the
   * configured secret>` (if any) unless `headers` replace or remove it.
   */
  postWebhook(body: unknown, headers?: WebhookHeaders, options?: PostWebhookOptions): Promise<WebhookResponse>;
  /** Points a demo webhook sender (notification rule + generic webhook transport) at the backend. */
  startWebhookSender(options: Omit<WebhookOptions, 'url'> & { url?: string }): WebhookSender;

  providerStatus(): Promise<ProviderStatus>;
  /** `POST /api/catalog/incremental/providers/authentik:default/trigger`. */
  triggerWalk(): Promise<void>;
  /** Number of walks the engine completed (from its log). */
  completedWalks(): number;
  /** Number of failed bursts the engine reported (from its log). */
  failedBursts(): number;
  /** Waits until more than `before` walks completed. */
  waitForCompletedWalk(before: number, options?: WaitOptions): Promise<void>;
  /** Triggers a new walk and waits until it completed. */
  runWalk(options?: WaitOptions): Promise<void>;
  stop(): Promise<void>;
}

const WALK_COMPLETE = /incremental-engine: Ingestion '[^']+' complete, transitioning to rest period/;
const BURST_FAILED = /incremental-engine: Ingestion '[^']+' threw an error during ingestion burst/;

export async function startAuthentikTestBackend(options: AuthentikTestBackendOptions = {}): Promise<AuthentikTestBackend> {
  const database = options.database ?? 'sqlite';
  if (options.demo && options.token === undefined) {
    throw new Error('startAuthentikTestBackend: with `demo`, also pass the token that demo authentik accepts');
  }
  const token = options.token ?? `tok-${randomBytes(12).toString('hex')}`;
  const webhookSecret = options.webhookSecret;
  const logs = new LogCapture(options.label ?? `backend:${database}`);

  const ownDemo = !options.demo;
  const demo =
    options.demo ??
    (await startDemoAuthentik({
      ...options.demoOptions,
      directory: options.directory ?? seedDemoDirectory(),
      token,
    }));

  const persistent = options.persistentDatabase;
  const dbPrefix = database === 'postgres' && persistent ? persistent : `akt_${randomBytes(5).toString('hex')}_`;
  const databaseConfig: JsonObject =
    database === 'postgres'
      ? (configureBackstageTestDatabaseEnv(),
        { client: 'pg', connection: postgresConnection() as JsonObject, prefix: dbPrefix, pluginDivisionMode: 'database' })
      : { client: 'better-sqlite3', connection: persistent ? { directory: persistent } : ':memory:' };

  const providerConfig = deepMerge(
    {
      baseUrl: demo.url,
      token,
      excludeGroups: [SEED_EXCLUDED_GROUP],
      schedule: {
        frequency: { minutes: 30 },
        timeout: { minutes: 3 },
        initialDelay: { seconds: 0 },
      },
      webhook: webhookSecret === undefined ? {} : { secret: webhookSecret },
      incremental: {
        burstInterval: { seconds: 5 },
        backoff: [{ seconds: 1 }],
      },
    },
    deepMerge(options.schedule ? { schedule: options.schedule } : {}, options.provider ?? {}),
  );
  const config = deepMerge(
    {
      backend: { database: databaseConfig },
      events: { useEventBus: 'never', notifyTimeoutMs: 1000 },
      catalog: { providers: { authentik: providerConfig } },
    },
    options.config ?? {},
  );

  const knexClients: Array<Promise<Knex>> = [];
  const dispatchers = new Set<WebhookSender>();
  let stopped = false;
  let backend: Awaited<ReturnType<typeof startTestBackend>> | undefined;
  // Stop order: what feeds the backend (webhook senders), then the backend (its shutdown
  // hooks abort bursts and webhook plans, so nothing of it runs on), then what it used
  // (database clients, the demo authentik, the databases), and last the log's printing, so
  // nothing reaches jest's console after the test file ended.
  const cleanup = async () => {
    for (const sender of dispatchers) sender.stop();
    dispatchers.clear();
    try {
      if (backend) await backend.stop();
    } finally {
      try {
        // backend-defaults 0.18's DatabaseManager.shutdown() never destroys its knex clients
        // (it calls `client.config.includes('sqlite3')` on an object: the TypeError is
        // swallowed by Promise.allSettled), so their pools would keep jest alive. Destroy them here.
        await Promise.all(knexClients.map(destroyKnexClient));
        if (ownDemo) await demo.stop();
        if (database === 'postgres' && !persistent) await dropDatabasesWithPrefix(dbPrefix);
      } finally {
        logs.close();
      }
    }
  };

  try {
    backend = await startTestBackend({
      features: [
        logs.factory(),
        mockServices.rootConfig.factory({ data: config }),
        eventsServiceFactory,
        databaseFactory(knexClients),
        schedulerFactory(options.tickIntervalMs ?? 500),
        import('@backstage/plugin-catalog-backend'),
        import('@backstage/plugin-catalog-backend-module-incremental-ingestion'),
        import('@backstage/plugin-events-backend'),
        import('../../src'),
      ],
    });
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }

  const server = backend.server;
  const baseUrl = `http://127.0.0.1:${server.port()}`;
  const catalogUrl = `${baseUrl}/api/catalog`;
  const webhookUrl = `${baseUrl}${WEBHOOK_PATH}`;

  async function request(method: string, path: string, body?: unknown) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: mockCredentials.service.header(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: parseJson(text) };
  }

  async function getEntities(): Promise<Entity[]> {
    const { status, body } = await request('GET', '/api/catalog/entities?filter=kind=user&filter=kind=group');
    if (status !== 200) throw new Error(`GET /api/catalog/entities answered ${status}: ${JSON.stringify(body)}`);
    return body as Entity[];
  }

  async function getEntity(kind: string, name: string): Promise<Entity | undefined> {
    const { status, body } = await request(
      'GET',
      `/api/catalog/entities/by-name/${encodeURIComponent(kind.toLowerCase())}/default/${encodeURIComponent(name)}`,
    );
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`GET entity ${kind}:${name} answered ${status}: ${JSON.stringify(body)}`);
    return body as Entity;
  }

  async function snapshot(): Promise<Map<string, string>> {
    const entities = await getEntities();
    const pairs = entities.map(e => [`${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase(), String(e.metadata.etag)] as const);
    return new Map([...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async function waitFor<T>(check: () => T | Promise<T>, waitOrTimeout: WaitOptions | number = {}): Promise<NonNullable<T>> {
    const wait = typeof waitOrTimeout === 'number' ? { timeoutMs: waitOrTimeout } : waitOrTimeout;
    const timeoutMs = wait.timeoutMs ?? 10_000;
    const intervalMs = wait.intervalMs ?? 150;
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await check();
        if (value) return value as NonNullable<T>;
        lastError = undefined;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) {
        const what = wait.description ? ` for ${wait.description}` : '';
        const why = lastError instanceof Error ? `: ${lastError.message}` : lastError ? `: ${String(lastError)}` : '';
        const error = new Error(`Timed out after ${timeoutMs} ms waiting${what}${why}`);
        if (lastError instanceof Error) (error as Error & { cause?: unknown }).cause = lastError;
        throw error;
      }
      await sleep(intervalMs);
    }
  }

  async function expectStable(check: () => unknown, durationMs: number, intervalMs = 200): Promise<void> {
    const deadline = Date.now() + durationMs;
    do {
      const result = await check();
      if (result === false) throw new Error('expectStable: check returned false');
      await sleep(intervalMs);
    } while (Date.now() < deadline);
  }

  async function postWebhook(body: unknown, extraHeaders: WebhookHeaders = {}, post: PostWebhookOptions = {}): Promise<WebhookResponse> {
    const headers: Record<string, string> = { 'content-type': post.contentType ?? 'application/json' };
    if (webhookSecret !== undefined) headers.authorization = `Bearer ${webhookSecret}`;
    for (const [name, value] of Object.entries(extraHeaders)) {
      if (value === undefined) delete headers[name.toLowerCase()];
      else headers[name.toLowerCase()] = value;
    }
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers,
      body: post.raw ?? JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: parseJson(text), text };
  }

  function startWebhookSender(sender: Omit<WebhookOptions, 'url'> & { url?: string }): WebhookSender {
    const dispatcher = new WebhookDispatcher({ ...sender, url: sender.url ?? webhookUrl });
    // The logged event itself, so that webhook and event-log pks match (de-duplication).
    const unsubscribe = demo.eventLog.onEvent(event => dispatcher.notifyEvent(event));
    const handle: WebhookSender = {
      dispatcher,
      idle: () => dispatcher.idle(),
      stop: () => {
        unsubscribe();
        dispatcher.close();
        dispatchers.delete(handle);
      },
    };
    dispatchers.add(handle);
    return handle;
  }

  async function providerStatus(): Promise<ProviderStatus> {
    const { status, body } = await request('GET', `/api/catalog/incremental/providers/${encodeURIComponent(PROVIDER_NAME)}`);
    if (status !== 200) throw new Error(`provider status answered ${status}: ${JSON.stringify(body)}`);
    return body as ProviderStatus;
  }

  async function triggerWalk(): Promise<void> {
    const { status, body } = await request('POST', `/api/catalog/incremental/providers/${encodeURIComponent(PROVIDER_NAME)}/trigger`);
    if (status !== 200 || !(body as { success?: boolean })?.success) {
      throw new Error(`trigger answered ${status}: ${JSON.stringify(body)}`);
    }
  }

  const completedWalks = () => logs.find(WALK_COMPLETE).length;
  const failedBursts = () => logs.find(BURST_FAILED).length;

  async function waitForCompletedWalk(before: number, wait: WaitOptions = {}): Promise<void> {
    await waitFor(() => completedWalks() > before, {
      timeoutMs: 20_000,
      description: `walk #${before + 1} of ${PROVIDER_NAME} to complete`,
      ...wait,
    });
  }

  async function runWalk(wait: WaitOptions = {}): Promise<void> {
    const before = completedWalks();
    await triggerWalk();
    await waitForCompletedWalk(before, wait);
  }

  const handle: AuthentikTestBackend = {
    server,
    baseUrl,
    catalogUrl,
    webhookUrl,
    demo,
    directory: demo.directory,
    token,
    webhookSecret,
    database,
    logs,
    config,
    request,
    getEntities,
    getEntity,
    snapshot,
    waitFor,
    expectStable,
    postWebhook,
    startWebhookSender,
    providerStatus,
    triggerWalk,
    completedWalks,
    failedBursts,
    waitForCompletedWalk,
    runWalk,
    async stop() {
      if (stopped) return;
      stopped = true;
      await cleanup();
    },
  };

  if (options.waitForFirstWalk ?? true) {
    try {
      await waitForCompletedWalk(0, { timeoutMs: 30_000, description: 'the first walk to complete' });
    } catch (error) {
      await handle.stop().catch(() => undefined);
      throw error;
    }
  }
  return handle;
}

/**
 * Backstage's own database service (`backend.database` config, one database per plugin),
 * remembering every client handed out so that `stop()` can release them (see `cleanup`).
 */
function databaseFactory(clients: Array<Promise<Knex>>) {
  return createServiceFactory({
    service: coreServices.database,
    deps: {
      config: coreServices.rootConfig,
      lifecycle: coreServices.lifecycle,
      logger: coreServices.logger,
      pluginMetadata: coreServices.pluginMetadata,
      rootLifecycle: coreServices.rootLifecycle,
      rootLogger: coreServices.rootLogger,
    },
    async createRootContext({ config, rootLifecycle, rootLogger }) {
      return DatabaseManager.fromConfig(config, { rootLifecycle, rootLogger });
    },
    async factory({ pluginMetadata, lifecycle, logger }, manager) {
      const service = manager.forPlugin(pluginMetadata.getId(), { lifecycle, logger });
      let client: Promise<Knex> | undefined;
      return {
        ...service,
        getClient: () => {
          if (!client) {
            client = service.getClient();
            clients.push(client);
          }
          return client;
        },
      };
    },
  });
}

async function destroyKnexClient(client: Promise<Knex>): Promise<void> {
  const knex = await client.catch(() => undefined);
  if (!knex) return;
  const pool = (knex.client as { pool?: { _stopReaping?: () => void } }).pool;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    knex.destroy().catch(() => undefined),
    new Promise<void>(resolve => {
      timer = setTimeout(resolve, 5000);
    }),
  ]);
  clearTimeout(timer);
  // A query that was waiting for a connection during shutdown can restart the pool's
  // reaper after destroy(): stop it for good.
  pool?._stopReaping?.();
}

/**
 * The real scheduler (database-coordinated, as in production), with the tick of this
 * package's engine tasks (`authentik:*`) shortened to `tickMs`.
 */
function schedulerFactory(tickMs: number) {
  return createServiceFactory({
    service: coreServices.scheduler,
    deps: {
      database: coreServices.database,
      logger: coreServices.logger,
      rootLifecycle: coreServices.rootLifecycle,
      httpRouter: coreServices.httpRouter,
      pluginMetadata: coreServices.pluginMetadata,
      metrics: metricsServiceRef,
    },
    async factory(deps) {
      const scheduler = DefaultSchedulerService.create(deps);
      if (tickMs > 0) {
        const scheduleTask = scheduler.scheduleTask.bind(scheduler);
        scheduler.scheduleTask = task =>
          scheduleTask(task.id.startsWith('authentik:') ? { ...task, frequency: { milliseconds: tickMs } as SchedulerServiceTaskScheduleDefinition['frequency'] } : task);
      }
      return scheduler;
    },
  });
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `over` merged into `base`: objects recursively, everything else (arrays too) replaced. */
export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const result: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : (value as JsonValue);
  }
  return result;
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
