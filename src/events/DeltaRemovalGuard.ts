import { PlannedDelta, RemovedEntity } from './DeltaPlanner';

export type DeltaKind = RemovedEntity['kind'];

export interface DeltaRemovalGuardOptions {
  /** Same meaning as for a walk's sweep, applied to each kind; `0` disables the guard. */
  rejectRemovalsAbovePercentage: number;
  /** Entities of this kind the catalog holds for the instance. */
  countInCatalog(kind: DeltaKind): Promise<number>;
}

/** Removals of one kind that a delta was not allowed to make. */
export interface RefusedRemovals {
  kind: DeltaKind;
  removed: number;
  inCatalog: number;
  percent: number;
}

/** A delta may always remove this many entities of a kind: one deletion is not "many". */
const ALWAYS_ALLOWED = 1;

/**
 * The removal guard for webhook deltas. A delta that would remove many users or many
 * groups at once — more than `rejectRemovalsAbovePercentage` of what the catalog holds of
 * that kind — is far more likely a read that went wrong than authentik's truth. Its
 * removals are dropped (its additions still apply) and left to the next full walk, which
 * has its own guard.
 */
export class DeltaRemovalGuard {
  constructor(private readonly options: DeltaRemovalGuardOptions) {}

  async apply(delta: PlannedDelta): Promise<{ delta: PlannedDelta; refused: RefusedRemovals[] }> {
    const threshold = this.options.rejectRemovalsAbovePercentage;
    if (!threshold) return { delta, refused: [] };
    const refused: RefusedRemovals[] = [];
    for (const kind of ['Group', 'User'] as const) {
      const removed = delta.removed.filter(r => r.kind === kind).length;
      if (removed <= ALWAYS_ALLOWED) continue;
      const inCatalog = await this.options.countInCatalog(kind);
      const percent = inCatalog > 0 ? (removed / inCatalog) * 100 : 100;
      if (percent > threshold) refused.push({ kind, removed, inCatalog, percent });
    }
    return refused.length === 0 ? { delta, refused } : { delta: { ...delta, removed: [] }, refused };
  }
}
