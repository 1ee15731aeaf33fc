import type { Knex } from 'knex';

export type WalkKind = 'User' | 'Group';

export interface WalkRemovalGuardOptions {
  /** The catalog plugin's database, which the incremental engine shares. */
  database: () => Promise<Knex>;
  providerName: string;
  /** Same meaning as the engine's option, applied to each kind; `0` disables the guard. */
  rejectRemovalsAbovePercentage: number;
}

/**
 * The engine's removal guard, per kind.
 *
 * The engine compares what its sweep would remove with ALL entities the walk emitted: a
 * walk that lost every group (a token without `view_group`) loses a few percent of a
 * directory with many users, and passes. This runs at the end of a walk, before its last
 * mark, and counts what the sweep would remove per kind — the refs the previous walk marked
 * that this walk has not marked again (the engine moves a ref to the new walk's mark when
 * it is emitted again) — against what this walk emitted of that kind. Above the threshold
 * the walk fails: nothing is removed, and the engine retries it after its backoff.
 */
export class WalkRemovalGuard {
  constructor(private readonly options: WalkRemovalGuardOptions) {}

  /**
   * @param emitted - entities of each kind this walk emitted, its final batch included
   * @param unmarked - refs of the walk's final batch, which the engine has not marked yet
   */
  async check(emitted: Record<WalkKind, number>, unmarked: string[]): Promise<void> {
    const threshold = this.options.rejectRemovalsAbovePercentage;
    if (!threshold) return;
    const removed = await this.wouldRemove(new Set(unmarked));
    for (const kind of ['Group', 'User'] as const) {
      const count = removed[kind];
      if (count === 0) continue;
      const percent = emitted[kind] > 0 ? (count / emitted[kind]) * 100 : 100;
      if (percent > threshold) {
        throw new WalkRemovalRefused(kind, count, emitted[kind], percent, threshold);
      }
    }
  }

  private async wouldRemove(unmarked: Set<string>): Promise<Record<WalkKind, number>> {
    const counts: Record<WalkKind, number> = { User: 0, Group: 0 };
    for (const ref of await this.sweptRefs(unmarked)) {
      if (ref.startsWith('user:')) counts.User += 1;
      else if (ref.startsWith('group:')) counts.Group += 1;
    }
    return counts;
  }

  /**
   * The refs the engine's sweep would remove at the end of the current walk: those the
   * previous walk marked that this walk has not marked again, nor holds in `unmarked`.
   */
  async sweptRefs(unmarked: ReadonlySet<string>): Promise<string[]> {
    const db = await this.options.database();
    const previous = await db('ingestions')
      .select('id')
      .where('provider_name', this.options.providerName)
      .whereNot('completion_ticket', 'open')
      .first();
    if (!previous) return [];
    const rows: Array<{ ref: string }> = await db('ingestion_mark_entities')
      .select('ingestion_mark_entities.ref')
      .join('ingestion_marks', 'ingestion_marks.id', 'ingestion_mark_entities.ingestion_mark_id')
      .where('ingestion_marks.ingestion_id', previous.id);
    return rows.map(row => row.ref).filter(ref => !unmarked.has(ref));
  }
}

/** A walk whose sweep would remove too many entities of one kind. */
export class WalkRemovalRefused extends Error {
  constructor(kind: WalkKind, removed: number, emitted: number, percent: number, threshold: number) {
    super(
      `authentik walk refused: it would remove ${removed} ${kind} entities the previous walk had, while it emitted ` +
        `${emitted} ${kind} entities (${Math.round(percent)}% > incremental.rejectRemovalsAbovePercentage ${threshold}%). ` +
        `Nothing was removed; the walk is retried. If authentik really lost them, raise ` +
        `incremental.rejectRemovalsAbovePercentage for one walk; otherwise check the token's permissions ` +
        `(authentik_core.view_user, authentik_core.view_group) and what sits in front of authentik.`,
    );
    this.name = 'WalkRemovalRefused';
  }
}
