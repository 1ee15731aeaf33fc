/**
 * Reproduction (not a jest test) of a data loss in the incremental-ingestion ENGINE
 * (@backstage/plugin-catalog-backend-module-incremental-ingestion 0.8.0), seen with two
 * replicas: a replica killed between the engine's `createMark` and `createMarkEntities`
 * (two separate transactions in `IncrementalIngestionEngine.mark()`) leaves that page's refs
 * attached to the PREVIOUS ingestion's marks; the next replica resumes after that page, so
 * the page is never marked in this ingestion, and the end-of-walk sweep removes its users
 * from the catalog although authentik still has them (until a later walk adds them back).
 *
 *   node --import tsx test/replicas/reproKillBetweenMarkWrites.ts
 *
 * Prints the sweep lines and the users missing afterwards; exits 1 when users went missing
 * (the bug), 0 otherwise (the kill missed the window: run it again). Takes ~2.5 min (the
 * killed replica's task lock expires after burstLength + 1 min).
 */
import knexFactory from 'knex';
import { generateSyntheticDirectory } from '../../dev/demo-authentik';
import { postgresConnection } from '../harness/postgres';
import { diffPks, expectedUserPks, LOG, ReplicaCluster, sleep, waitUntil } from './cluster';

async function main() {
  const directory = generateSyntheticDirectory({ users: 2400, groups: 40, seed: 20240611 });
  const expected = expectedUserPks(directory);
  const cluster = new ReplicaCluster({ directory, latencyMs: 20, pageSize: 100, burstLengthMs: 1000, replicas: ['A', 'B'] });
  let knex: ReturnType<typeof knexFactory> | undefined;
  try {
    await cluster.start();
    await cluster.waitForAny(LOG.walkComplete, 120_000);
    await waitUntil(async () => diffPks(await cluster.catalogUsers(cluster.replica('A')), expected).missing.length === 0, 60_000, 'walk 1 in the catalog', 1000);
    console.log(`walk 1 complete, all ${expected.size} users in the catalog`);

    knex = knexFactory({ client: 'pg', connection: { ...postgresConnection(), database: `${cluster.dbPrefix}catalog` }, pool: { min: 1, max: 1 } });
    cluster.setLatency(200); // several bursts per walk
    const since = cluster.mark();
    await cluster.triggerWalk(cluster.replica('A'));
    const firstBurst = await cluster.waitForAny(LOG.burstEnd, 30_000, since);
    const ingestion = firstBurst.match[1];
    const { replica: victim } = await cluster.waitForAny(LOG.burstStart, 20_000, cluster.mark());
    // Kill as soon as this burst's first mark row is committed: the page's mark-entities
    // (the next transaction) are then most likely not written yet.
    const marks = async () =>
      Number((await knex!('ingestion_marks').where('ingestion_id', ingestion).count({ n: '*' }))[0].n);
    const before = await marks();
    while ((await marks()) === before);
    await victim.kill('SIGKILL');
    const last = await knex('ingestion_marks').where('ingestion_id', ingestion).orderBy('sequence', 'desc').first();
    const [{ n: refs }] = await knex('ingestion_mark_entities').where('ingestion_mark_id', last.id).count({ n: '*' });
    console.log(`killed ${victim.name}; its last mark (cursor page ${last.cursor?.page}) has ${refs} entity refs`);

    cluster.setLatency(20);
    const done = await cluster.waitForAny(LOG.walkComplete, 200_000, since);
    await sleep(3000);
    for (const m of cluster.matches(LOG.removing)) console.log(`[${m.replica}] ${m.match[0]}`);
    await sleep(10_000);
    const { missing } = diffPks(await cluster.catalogUsers(done.replica), expected);
    console.log(`after the walk ${done.replica.name} completed: ${missing.length} users missing from the catalog ${missing.length ? `(pks ${missing.slice(0, 5).join(', ')}…)` : ''}`);
    process.exitCode = missing.length > 0 ? 1 : 0;
  } finally {
    await knex?.destroy();
    await cluster.stop({ keepLogs: true });
    console.log(`replica logs: ${cluster.runDir}`);
  }
}

main().catch(error => {
  console.error(error);
  process.exit(2);
});
