import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import knexFactory, { Knex } from 'knex';
import { StrandedEntityRepair } from './StrandedEntityRepair';

const PROVIDER = 'authentik:default';

/** The engine's tables (its migrations) and the two catalog tables the repair reads. */
async function database(): Promise<Knex> {
  const db = knexFactory({ client: 'better-sqlite3', connection: ':memory:', useNullAsDefault: true });
  const engine = path.dirname(require.resolve('@backstage/plugin-catalog-backend-module-incremental-ingestion/package.json'));
  await db.migrate.latest({ directory: path.join(engine, 'migrations'), loadExtensions: ['.js'] });
  await db.schema.createTable('refresh_state_references', t => {
    t.string('source_key');
    t.string('target_entity_ref');
  });
  await db.schema.createTable('refresh_state', t => {
    t.string('entity_id');
    t.string('entity_ref');
  });
  return db;
}

describe('StrandedEntityRepair', () => {
  let db: Knex;
  beforeEach(async () => {
    db = await database();
    // One entity of this provider that no walk marks any more: stranded.
    await db('refresh_state_references').insert({ source_key: PROVIDER, target_entity_ref: 'user:default/gone' });
    await db('refresh_state').insert({ entity_id: 'uid-1', entity_ref: 'user:default/gone' });
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('removes what a refused sweep stranded when the guard would pass', async () => {
    const removed: string[][] = [];
    const repair = new StrandedEntityRepair({
      database: async () => db,
      providerName: PROVIDER,
      logger: mockServices.logger.mock(),
      rejectRemovalsAbovePercentage: 25,
      remove: async refs => void removed.push(refs),
    });
    await repair.afterWalk(10, []);
    expect(removed).toEqual([['user:default/gone']]);
  });

  it('a failure while removing is logged, never thrown: the walk completes', async () => {
    const logger = mockServices.logger.mock();
    const repair = new StrandedEntityRepair({
      database: async () => db,
      providerName: PROVIDER,
      logger,
      rejectRemovalsAbovePercentage: 25,
      remove: async () => {
        throw new Error('events service is shutting down');
      },
    });
    await expect(repair.afterWalk(10, [])).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('events service is shutting down'));
  });
});
