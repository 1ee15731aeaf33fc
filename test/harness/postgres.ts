import { spawnSync } from 'node:child_process';
import knexFactory, { Knex } from 'knex';

/**
 * The local PostgreSQL the integration tests use (no Docker): trust auth, user postgres.
 * `BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING` overrides it, as for Backstage's
 * own `TestDatabases`.
 */
export const DEFAULT_POSTGRES_URL = 'postgresql://postgres@127.0.0.1:5432';

export function postgresUrl(): string {
  return process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING || DEFAULT_POSTGRES_URL;
}

/** `host:port` of {@link postgresUrl}, for messages. */
export function postgresAddress(): string {
  const url = new URL(postgresUrl());
  return `${url.hostname}:${url.port || '5432'}`;
}

/** What `TestDatabases` would need on this machine: no Docker, the local server. */
export function configureBackstageTestDatabaseEnv(): void {
  process.env.BACKSTAGE_TEST_DISABLE_DOCKER ??= '1';
  process.env.BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING ??= DEFAULT_POSTGRES_URL;
}

/** knex/pg connection settings for `backend.database.connection`. */
export function postgresConnection(): { host: string; port: number; user: string; password?: string } {
  const url = new URL(postgresUrl());
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'postgres'),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}

function adminKnex(timeoutMs: number): Knex {
  return knexFactory({
    client: 'pg',
    connection: { ...postgresConnection(), database: 'postgres', connectionTimeoutMillis: timeoutMs },
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: timeoutMs,
  });
}

/** Whether PostgreSQL accepts a connection and a query within `timeoutMs`. */
export async function isPostgresAvailable(timeoutMs = 1500): Promise<boolean> {
  const db = adminKnex(timeoutMs);
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

let syncAnswer: boolean | undefined;

/**
 * {@link isPostgresAvailable} for places that must decide synchronously (jest collects
 * `describe` blocks synchronously): asks a child process, once per test file.
 */
export function isPostgresAvailableSync(timeoutMs = 1500): boolean {
  if (syncAnswer !== undefined) return syncAnswer;
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const c = new Client(${JSON.stringify({ ...postgresConnection(), database: 'postgres', connectionTimeoutMillis: timeoutMs })});
    c.on('error', () => {});
    c.connect().then(() => c.query('select 1')).then(() => process.exit(0), () => process.exit(1));
  `;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: timeoutMs + 3000, stdio: 'ignore' });
  syncAnswer = result.status === 0;
  return syncAnswer;
}

/** Drops every database whose name starts with `prefix` (connections are terminated). */
export async function dropDatabasesWithPrefix(prefix: string): Promise<string[]> {
  if (!/^[a-z0-9_]+$/.test(prefix)) throw new Error(`Unsafe database prefix "${prefix}"`);
  const db = adminKnex(5000);
  try {
    const { rows } = (await db.raw('select datname from pg_database where starts_with(datname, ?)', [prefix])) as {
      rows: Array<{ datname: string }>;
    };
    for (const { datname } of rows) {
      await db.raw(`drop database if exists "${datname}" with (force)`);
    }
    return rows.map(r => r.datname);
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

/**
 * `describe(name, fn)` when PostgreSQL is reachable. When it is not, ONE passing test named
 * `SKIPPED: PostgreSQL not reachable at <host:port> — <name> not run` is registered and a loud
 * warning printed (CI forbids skipped tests, and a silent pass would hide the gap); with
 * `CI_REQUIRE_POSTGRES=1` that test fails instead.
 */
export function describeIfPostgres(name: string, fn: () => void): void {
  configureBackstageTestDatabaseEnv();
  if (isPostgresAvailableSync()) {
    describe(name, fn);
    return;
  }
  const address = postgresAddress();
  const required = process.env.CI_REQUIRE_POSTGRES === '1';
  describe(name, () => {
    if (required) {
      it(`PostgreSQL required (CI_REQUIRE_POSTGRES=1) but not reachable at ${address} — ${name}`, () => {
        throw new Error(
          `CI_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at ${address}: "${name}" cannot run. ` +
            'Start PostgreSQL or set BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING.',
        );
      });
      return;
    }
    it(`SKIPPED: PostgreSQL not reachable at ${address} — ${name} not run`, () => {
      // eslint-disable-next-line no-console
      console.warn(
        [
          '',
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
          `!!! PostgreSQL is NOT reachable at ${address}:`,
          `!!! "${name}" was NOT run. Set CI_REQUIRE_POSTGRES=1 to make this a failure.`,
          '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
          '',
        ].join('\n'),
      );
    });
  });
}
