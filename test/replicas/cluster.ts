/**
 * Two (or more) backend replicas sharing ONE PostgreSQL database set, fed by one demo
 * authentik that lives in the test process (so the test counts its requests and mutates
 * its directory). See `test/replicas.integration.test.ts`.
 */
import { rmSync } from 'node:fs';
import knexFactory, { Knex } from 'knex';
import { DemoAuthentik, DemoDirectory, startDemoAuthentik } from '../../dev/demo-authentik';
import { dropDatabasesWithPrefix, postgresConnection } from '../harness/postgres';
import { freePort, LogRecord, makeRunDir, randomSuffix, ReplicaProcess } from './replicaProcess';

export const PROVIDER = 'authentik:default';
export const USER_PK_ANNOTATION = 'goauthentik.io/user-pk';
/** The scheduler's table in each plugin database (backend-defaults 0.18). */
const TASKS_TABLE = 'backstage_backend_tasks__tasks';

export interface ClusterOptions {
  directory: DemoDirectory;
  /** Demo authentik latency per API request. */
  latencyMs: number;
  pageSize: number;
  burstLengthMs: number;
  /** Replica names, started one after the other (concurrent first starts race on migrations). */
  replicas: string[];
}

export interface CatalogUser {
  name: string;
  pk?: string;
  displayName?: string;
}

/** Log patterns of this module and of the incremental engine. */
export const LOG = {
  walkGroups: /^authentik walk ([0-9a-f-]{36}): (\d+) groups/,
  walkComplete: /^authentik walk ([0-9a-f-]{36}) complete: (\d+) users, (\d+) groups/,
  resuming: /^Resuming authentik walk ([0-9a-f-]{36}) at page (\d+)/,
  burstStart: /^incremental-engine: Ingestion '([0-9a-f-]{36})' burst initiated/,
  burstEnd: /^incremental-engine: Ingestion '([0-9a-f-]{36})' burst complete\. \((\d+) batches/,
  removing: /^incremental-engine: Ingestion '([0-9a-f-]{36})': Removing (\d+) entities/,
  rejectedRemoval: /^incremental-engine: Ingestion '([0-9a-f-]{36})': (Attempted to remove|Rejecting empty)/,
  changes: /^authentik changes \((.*?)\): (\d+) entities upserted, (\d+) removed, (\d+) authentik requests/,
  confirmation: /^authentik confirmation read \((.*?)\): (\d+) entities upserted, (\d+) removed, (\d+) authentik requests/,
  taskLost: /^Task timed out and was lost: authentik:default/,
  collision: /^authentik users (\S+) and (\S+) both map to the entity name "([^"]+)"/,
};

export class ReplicaCluster {
  readonly replicas = new Map<string, ReplicaProcess>();
  readonly catalogToken = `replicas-catalog-${randomSuffix(8)}`;
  readonly webhookSecret = `replicas-whsec-${randomSuffix(8)}`;
  readonly apiToken = `replicas-api-${randomSuffix(8)}`;
  readonly dbPrefix = `bs_replicas_${randomSuffix()}_`;
  readonly runDir = makeRunDir();
  demo!: DemoAuthentik;
  private taskDb?: Knex;
  /** The options object the demo reads `latencyMs` from on every request. */
  private readonly demoOptions: { latencyMs: number };

  constructor(readonly options: ClusterOptions) {
    this.demoOptions = { latencyMs: options.latencyMs };
  }

  /**
   * Changes the demo's per-request latency from now on. The demo reads it from the options
   * object on every request; later walks re-emit unchanged entities several times faster
   * than the first (the catalog has little to do), so they need more latency to still take
   * several bursts.
   */
  setLatency(ms: number): void {
    this.demoOptions.latencyMs = ms;
  }

  get directory(): DemoDirectory {
    return this.options.directory;
  }

  replica(name: string): ReplicaProcess {
    const replica = this.replicas.get(name);
    if (!replica) throw new Error(`No replica ${name}`);
    return replica;
  }

  all(): ReplicaProcess[] {
    return [...this.replicas.values()];
  }

  alive(): ReplicaProcess[] {
    return this.all().filter(r => r.alive);
  }

  async start(): Promise<void> {
    this.demo = await startDemoAuthentik(
      Object.assign(this.demoOptions, { directory: this.options.directory, token: this.apiToken, port: 0 }),
    );
    for (const name of this.options.replicas) {
      const port = await freePort();
      const replica = ReplicaProcess.start({ name, port, config: this.configFor(port), runDir: this.runDir });
      this.replicas.set(name, replica);
      await replica.waitForMessage(/^REPLICA_READY/, 90_000);
    }
  }

  /** The app config of one replica: everything but the port is shared. */
  configFor(port: number): Record<string, unknown> {
    const { burstLengthMs, pageSize } = this.options;
    return {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl: `http://127.0.0.1:${port}`,
        listen: { host: '127.0.0.1', port },
        // Every plugin gets its own database `<prefix><pluginId>`, shared by the replicas.
        database: { client: 'pg', connection: postgresConnection(), prefix: this.dbPrefix, pluginDivisionMode: 'database' },
        auth: {
          externalAccess: [{ type: 'static', options: { token: this.catalogToken, subject: 'replicas-test' } }],
        },
      },
      events: { notifyTimeoutMs: 5000 },
      catalog: {
        providers: {
          authentik: {
            baseUrl: this.demo.url,
            token: this.apiToken,
            includeServiceAccounts: false,
            schedule: {
              // The rest between walks: no second walk unless the test triggers one.
              frequency: { minutes: 30 },
              timeout: { minutes: 3 },
              initialDelay: { seconds: 0 },
            },
            webhook: { secret: this.webhookSecret },
            incremental: {
              pageSize,
              concurrency: 1,
              burstInterval: { seconds: 5 },
              burstLength: { milliseconds: burstLengthMs },
              backoff: [{ seconds: 5 }],
            },
          },
        },
      },
    };
  }

  // ---- logs across replicas -------------------------------------------------------

  /** Matches of `pattern` in every replica's log, in receive order. */
  matches(pattern: RegExp): Array<{ replica: string; record: LogRecord; match: RegExpExecArray }> {
    return this.all()
      .flatMap(r => r.matches(pattern).map(m => ({ replica: r.name, ...m })))
      .sort((a, b) => a.record.at - b.record.at);
  }

  /** Waits for a line matching `pattern` in any replica, from the given record counts. */
  async waitForAny(
    pattern: RegExp,
    timeoutMs: number,
    since?: Map<string, number>,
  ): Promise<{ replica: ReplicaProcess; record: LogRecord; match: RegExpExecArray }> {
    const controllers = this.all().map(r =>
      r.waitForMessage(pattern, timeoutMs, since?.get(r.name) ?? 0).then(record => ({ replica: r, record })),
    );
    // A replica that dies (or was killed) rejects; only fail when every replica failed.
    const settled = await Promise.any(controllers).catch((error: AggregateError) => {
      throw new Error(`No line matching ${pattern} in any replica: ${error.errors.map(e => String(e)).join('; ')}`);
    });
    return { ...settled, match: pattern.exec(settled.record.message)! };
  }

  /** Current record counts, to wait only for lines printed after now. */
  mark(): Map<string, number> {
    return new Map(this.all().map(r => [r.name, r.records.length]));
  }

  // ---- catalog API ----------------------------------------------------------------

  async catalogUsers(via: ReplicaProcess): Promise<CatalogUser[]> {
    const fields = ['metadata.name', `metadata.annotations`, 'spec.profile.displayName'].join(',');
    const response = await fetch(`${via.baseUrl}/api/catalog/entities?filter=kind=user&fields=${fields}`, {
      headers: { authorization: `Bearer ${this.catalogToken}` },
    });
    if (response.status !== 200) {
      throw new Error(`GET /api/catalog/entities via ${via.name} answered ${response.status}: ${await response.text()}`);
    }
    const entities = (await response.json()) as Array<{
      metadata: { name: string; annotations?: Record<string, string> };
      spec?: { profile?: { displayName?: string } };
    }>;
    return entities.map(e => ({
      name: e.metadata.name,
      pk: e.metadata.annotations?.[USER_PK_ANNOTATION],
      displayName: e.spec?.profile?.displayName,
    }));
  }

  async triggerWalk(via: ReplicaProcess): Promise<void> {
    const response = await fetch(`${via.baseUrl}/api/catalog/incremental/providers/${encodeURIComponent(PROVIDER)}/trigger`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.catalogToken}` },
    });
    const text = await response.text();
    if (response.status !== 200 || !JSON.parse(text).success) {
      throw new Error(`trigger via ${via.name} answered ${response.status}: ${text}`);
    }
  }

  async postWebhook(via: ReplicaProcess, body: unknown): Promise<number> {
    const response = await fetch(`${via.baseUrl}/api/events/http/authentik`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.webhookSecret}` },
      body: JSON.stringify(body),
    });
    await response.text();
    return response.status;
  }

  // ---- the scheduler's lock (read-only) ---------------------------------------------

  /** The provider task's row in the catalog database: who holds the lock, until when. */
  async taskLock(): Promise<{ ticket: string | null; expiresAt: Date | null }> {
    this.taskDb ??= knexFactory({
      client: 'pg',
      connection: { ...postgresConnection(), database: `${this.dbPrefix}catalog` },
      pool: { min: 0, max: 1 },
    });
    const row = await this.taskDb(TASKS_TABLE)
      .where('id', PROVIDER)
      .first('current_run_ticket', 'current_run_expires_at');
    return { ticket: row?.current_run_ticket ?? null, expiresAt: row?.current_run_expires_at ?? null };
  }

  // ---- teardown -----------------------------------------------------------------

  /** Kills every replica, stops the demo, drops the databases; keeps the logs if asked. */
  async stop(options: { keepLogs?: boolean } = {}): Promise<void> {
    await Promise.all(this.all().map(r => r.kill('SIGKILL').catch(() => undefined)));
    await Promise.all(this.all().map(r => r.closeLog()));
    await this.taskDb?.destroy().catch(() => undefined);
    await this.demo?.stop().catch(() => undefined);
    await dropDatabasesWithPrefix(this.dbPrefix);
    if (!options.keepLogs) rmSync(this.runDir, { recursive: true, force: true });
  }
}

/** The users the catalog must hold: active, not service accounts (includeServiceAccounts: false). */
export function expectedUserPks(directory: DemoDirectory): Set<string> {
  const pks = new Set<string>();
  for (const user of directory.userRecords()) {
    if (user.is_active && (user.type === 'internal' || user.type === 'external')) pks.add(String(user.pk));
  }
  return pks;
}

/** `{ missing, unexpected }` between the catalog's user pks and `expected`. */
export function diffPks(users: CatalogUser[], expected: Set<string>): { missing: string[]; unexpected: string[]; duplicated: string[] } {
  const seen = new Map<string, number>();
  for (const u of users) if (u.pk) seen.set(u.pk, (seen.get(u.pk) ?? 0) + 1);
  return {
    missing: [...expected].filter(pk => !seen.has(pk)),
    unexpected: [...seen.keys()].filter(pk => !expected.has(pk)),
    duplicated: [...seen].filter(([, n]) => n > 1).map(([pk]) => pk),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value; returns it. */
export async function waitUntil<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 500): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await sleep(intervalMs);
  }
}
