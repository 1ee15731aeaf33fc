/**
 * The catalog's own work queues, read straight from its PostgreSQL database (bench only):
 * how many entities are due for processing (`refresh_state.next_update_at` passed) and for
 * stitching (`stitch_queue.next_stitch_at` passed), and how many final entities exist.
 * The HTTP API cannot tell "processed and stitched" from "processed, relations pending".
 * Also `ANALYZE` for a server whose autovacuum is off (see the bench's header).
 */
import knexFactory, { Knex } from 'knex';
import { postgresConnection } from '../../test/harness/postgres';

export interface QueueCounts {
  /** refresh_state rows whose next_update_at has passed: waiting for the processing loop. */
  processingDue: number;
  /** stitch_queue rows whose next_stitch_at has passed: waiting for the stitcher. */
  stitchDue: number;
  /** final_entities rows with an entity (stitched at least once). */
  final: number;
}

export class CatalogQueues {
  private readonly db: Knex;

  constructor(database: string) {
    this.db = knexFactory({
      client: 'pg',
      connection: { ...postgresConnection(), database },
      pool: { min: 0, max: 1 },
    });
  }

  async read(): Promise<QueueCounts> {
    const { rows } = (await this.db.raw(`
      select
        (select count(*) from refresh_state where next_update_at <= now()) as processing_due,
        (select count(*) from stitch_queue where next_stitch_at <= now()) as stitch_due,
        (select count(*) from final_entities where final_entity is not null) as final
    `)) as { rows: Array<{ processing_due: string; stitch_due: string; final: string }> };
    const row = rows[0];
    return { processingDue: Number(row.processing_due), stitchDue: Number(row.stitch_due), final: Number(row.final) };
  }

  /** Whether the server's autovacuum daemon runs (it also keeps the planner's statistics current). */
  async autovacuumOn(): Promise<boolean> {
    const { rows } = (await this.db.raw('show autovacuum')) as { rows: Array<{ autovacuum: string }> };
    return rows[0]?.autovacuum === 'on';
  }

  /** `ANALYZE` of the whole catalog database (what autovacuum does as tables grow); its wall time in ms. */
  async analyze(): Promise<number> {
    const started = performance.now();
    await this.db.raw('analyze');
    return performance.now() - started;
  }

  async close(): Promise<void> {
    await this.db.destroy().catch(() => undefined);
  }
}
