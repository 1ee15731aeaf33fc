import { randomUUID } from 'node:crypto';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { WalkRemovalGuard, WalkRemovalRefused } from './WalkRemovalGuard';

const PROVIDER = 'authentik:default';

/** The incremental engine's own tables (its migrations), in memory. */
async function engineDatabase(): Promise<Knex> {
  const db = knexFactory({ client: 'better-sqlite3', connection: ':memory:', useNullAsDefault: true });
  const engine = path.dirname(require.resolve('@backstage/plugin-catalog-backend-module-incremental-ingestion/package.json'));
  await db.migrate.latest({ directory: path.join(engine, 'migrations'), loadExtensions: ['.js'] });
  return db;
}

/** An ingestion of PROVIDER whose single mark holds `refs`. */
async function ingestion(db: Knex, ticket: 'open' | 'closed', refs: string[]): Promise<void> {
  const id = randomUUID();
  await db('ingestions').insert({
    id,
    provider_name: PROVIDER,
    status: ticket === 'open' ? 'bursting' : 'resting',
    next_action: ticket === 'open' ? 'ingest' : 'rest',
    next_action_at: new Date(),
    attempts: 0,
    ingestion_completed_at: ticket === 'open' ? null : new Date(),
    completion_ticket: ticket === 'open' ? 'open' : randomUUID(),
  });
  const mark = randomUUID();
  await db('ingestion_marks').insert({ id: mark, ingestion_id: id, sequence: 1, cursor: '{}' });
  if (refs.length > 0) {
    await db.batchInsert('ingestion_mark_entities', refs.map(ref => ({ id: randomUUID(), ingestion_mark_id: mark, ref })), 200);
  }
}

const users = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `user:default/u${from + i}`);
const groups = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `group:default/g${from + i}`);

describe('WalkRemovalGuard (on the engine\'s tables)', () => {
  let db: Knex;
  beforeEach(async () => {
    db = await engineDatabase();
  });
  afterEach(async () => {
    await db.destroy();
  });

  const guard = (rejectRemovalsAbovePercentage = 25) =>
    new WalkRemovalGuard({ database: async () => db, providerName: PROVIDER, rejectRemovalsAbovePercentage });

  it('passes the first walk (no previous one)', async () => {
    await ingestion(db, 'open', []);
    await expect(guard().check({ User: 0, Group: 0 }, [])).resolves.toBeUndefined();
  });

  it('refuses a walk that would remove every group, although they are a few percent of all entities', async () => {
    // The previous walk's marks still hold what this walk has not emitted again.
    await ingestion(db, 'closed', groups(61));
    await ingestion(db, 'open', users(1500));
    const error = await guard().check({ User: 1500, Group: 0 }, []).catch(e => e);
    expect(error).toBeInstanceOf(WalkRemovalRefused);
    expect(error.message).toContain('61 Group entities');
    expect(error.message).toContain('incremental.rejectRemovalsAbovePercentage');
  });

  it('refuses a walk that would remove too many users, and names the kind and the numbers', async () => {
    await ingestion(db, 'closed', users(30, 70));
    await ingestion(db, 'open', [...users(70), ...groups(5)]);
    await expect(guard().check({ User: 70, Group: 5 }, [])).rejects.toThrow(/remove 30 User entities .* emitted 70 User entities \(43%/);
  });

  it('passes removals within the threshold of each kind', async () => {
    await ingestion(db, 'closed', [...users(10, 90), ...groups(1, 9)]);
    await ingestion(db, 'open', [...users(90), ...groups(9)]);
    await expect(guard().check({ User: 90, Group: 9 }, [])).resolves.toBeUndefined();
  });

  it('does not count the final batch, which the engine has not marked yet', async () => {
    await ingestion(db, 'closed', users(40, 60));
    await ingestion(db, 'open', users(60));
    await expect(guard().check({ User: 100, Group: 0 }, users(40, 60))).resolves.toBeUndefined();
  });

  it('0 disables it, like the engine\'s option', async () => {
    await ingestion(db, 'closed', groups(10));
    await ingestion(db, 'open', users(10));
    await expect(guard(0).check({ User: 10, Group: 0 }, [])).resolves.toBeUndefined();
  });
});
