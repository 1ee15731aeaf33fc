import type { Knex } from 'knex';

/** The newest event of authentik's log the follower has applied (or skipped over on purpose). */
export interface Watermark {
  /** Undashed lower-case UUID; `null` when the log was empty when following began. */
  eventPk: string | null;
  /** `created` of that event, epoch ms (0 with `eventPk: null`). */
  createdMs: number;
  /** When a follower last read the log up to this watermark, epoch ms. */
  checkedAtMs: number;
}

const WATERMARKS = 'authentik_event_log_watermarks';
const CLAIMS = 'authentik_event_claims';

/**
 * The follower's durable state in the catalog plugin's database, shared by replicas: one
 * watermark per instance, and the event pks already claimed for application (by a webhook
 * or by the follower), so that each logged change is applied once across replicas.
 * Tables are created on first use; concurrent creation by several replicas is tolerated.
 */
export class EventLogStore {
  private ready?: Promise<Knex>;

  constructor(private readonly database: () => Promise<Knex>) {}

  async watermark(instanceId: string): Promise<Watermark | undefined> {
    const db = await this.db();
    const row = await db(WATERMARKS).where({ instance_id: instanceId }).first();
    if (!row) return undefined;
    return {
      eventPk: row.event_pk ?? null,
      createdMs: Number(row.event_created_ms),
      checkedAtMs: Number(row.checked_at_ms),
    };
  }

  async saveWatermark(instanceId: string, watermark: Watermark): Promise<void> {
    const db = await this.db();
    await db(WATERMARKS)
      .insert({
        instance_id: instanceId,
        event_pk: watermark.eventPk,
        event_created_ms: watermark.createdMs,
        checked_at_ms: watermark.checkedAtMs,
      })
      .onConflict('instance_id')
      .merge();
  }

  /** Records that the log was read up to the current watermark at `checkedAtMs`. */
  async touch(instanceId: string, checkedAtMs: number): Promise<void> {
    const db = await this.db();
    await db(WATERMARKS).where({ instance_id: instanceId }).update({ checked_at_ms: checkedAtMs });
  }

  /**
   * Claims event pks for application; returns those nobody (no replica, no webhook, no
   * earlier poll) had claimed before. Atomic per pk across replicas.
   */
  async claim(instanceId: string, eventPks: string[], nowMs: number): Promise<Set<string>> {
    if (eventPks.length === 0) return new Set();
    const db = await this.db();
    const claimed = new Set<string>();
    // SQLite takes at most 500 rows (and 999 variables) per statement.
    for (let start = 0; start < eventPks.length; start += 200) {
      const rows = eventPks.slice(start, start + 200).map(pk => ({ instance_id: instanceId, event_pk: pk, claimed_at_ms: nowMs }));
      const inserted: Array<{ event_pk: string }> = await db(CLAIMS)
        .insert(rows)
        .onConflict(['instance_id', 'event_pk'])
        .ignore()
        .returning('event_pk');
      for (const row of inserted) claimed.add(row.event_pk);
    }
    return claimed;
  }

  /** Gives claims back (their application failed, so a later poll must apply them). */
  async release(instanceId: string, eventPks: string[]): Promise<void> {
    if (eventPks.length === 0) return;
    const db = await this.db();
    for (let start = 0; start < eventPks.length; start += 200) {
      await db(CLAIMS).where({ instance_id: instanceId }).whereIn('event_pk', eventPks.slice(start, start + 200)).delete();
    }
  }

  /** Forgets claims older than `beforeMs`. */
  async prune(instanceId: string, beforeMs: number): Promise<number> {
    const db = await this.db();
    return db(CLAIMS).where({ instance_id: instanceId }).andWhere('claimed_at_ms', '<', beforeMs).delete();
  }

  private db(): Promise<Knex> {
    this.ready ??= this.migrate().catch(error => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async migrate(): Promise<Knex> {
    const db = await this.database();
    await createTableOnce(db, WATERMARKS, table => {
      table.string('instance_id', 255).primary();
      table.string('event_pk', 64).nullable();
      table.bigInteger('event_created_ms').notNullable();
      table.bigInteger('checked_at_ms').notNullable();
    });
    await createTableOnce(db, CLAIMS, table => {
      table.string('instance_id', 255).notNullable();
      table.string('event_pk', 64).notNullable();
      table.bigInteger('claimed_at_ms').notNullable().index();
      table.primary(['instance_id', 'event_pk']);
    });
    return db;
  }
}

/** `CREATE TABLE` unless it exists; another replica creating it at the same moment is fine. */
async function createTableOnce(db: Knex, name: string, build: (table: Knex.CreateTableBuilder) => void): Promise<void> {
  if (await db.schema.hasTable(name)) return;
  try {
    await db.schema.createTable(name, build);
  } catch (error) {
    if (!(await db.schema.hasTable(name))) throw error;
  }
}
