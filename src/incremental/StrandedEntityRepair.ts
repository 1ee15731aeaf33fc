import { LoggerService } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';

export interface StrandedEntityRepairOptions {
  /** The catalog plugin's database, which the incremental engine shares. */
  database: () => Promise<Knex>;
  providerName: string;
  logger: LoggerService;
  /** Hands removals to the engine (a delta on the provider's delta topic). */
  remove(entityRefs: string[]): Promise<void>;
  rejectRemovalsAbovePercentage: number;
  onStranded?(count: number): void;
}

/**
 * Repairs what the incremental engine strands.
 *
 * When the engine's removal guard refuses a sweep, the refused refs stay in the marks of
 * the ingestion before it, which the engine deletes at the next rest: from then on nothing
 * tracks them and no later sweep removes them, even when authentik no longer has them.
 *
 * At the end of every complete walk this looks for entities the catalog holds for this
 * provider that neither this walk nor the previous one marked: the engine will never
 * remove them, and this walk has just confirmed that authentik does not have them (a walk
 * only completes after reading every page). They are removed through a delta when the
 * engine's own guard would pass for them; otherwise they are reported with the admin calls
 * that remove them. Reads the engine's and the catalog's tables; if their shape changes in
 * a future release, this logs once and does nothing.
 */
export class StrandedEntityRepair {
  private disabled = false;

  constructor(private readonly options: StrandedEntityRepairOptions) {}

  /**
   * @param emitted - entities the completed walk emitted
   * @param unmarked - refs of the walk's final page, which the engine has not marked yet
   *
   * Never throws: a failure here is logged and never keeps the walk from completing.
   */
  async afterWalk(emitted: number, unmarked: string[]): Promise<void> {
    if (this.disabled) return;
    let stranded: string[];
    try {
      stranded = await this.findStranded(new Set(unmarked));
    } catch (error) {
      this.disabled = true;
      this.options.logger.warn(
        `Cannot check for entities stranded by refused sweeps (${(error as Error).message}); the check is off until restart`,
      );
      return;
    }
    try {
      await this.repair(stranded, emitted);
    } catch (error) {
      // The walk is complete whatever happens here: a later walk looks again.
      this.options.logger.warn(`Repairing entities stranded by refused sweeps failed: ${(error as Error).message}`);
    }
  }

  private async repair(stranded: string[], emitted: number): Promise<void> {
    if (stranded.length === 0) {
      this.options.onStranded?.(0);
      return;
    }
    const percent = emitted > 0 ? (stranded.length / emitted) * 100 : 100;
    if (emitted > 0 && percent <= this.options.rejectRemovalsAbovePercentage) {
      this.options.logger.info(
        `Removing ${stranded.length} entities a refused sweep left behind and this walk confirmed gone: ${preview(stranded)}`,
      );
      await this.options.remove(stranded);
      this.options.onStranded?.(0);
      return;
    }
    this.options.onStranded?.(stranded.length);
    await this.reportBlocked(stranded, percent);
  }

  private async findStranded(unmarked: Set<string>): Promise<string[]> {
    const db = await this.options.database();
    const { providerName } = this.options;
    const ingestions = db('ingestions').select('id').where('provider_name', providerName);
    const marked = db('ingestion_mark_entities')
      .select('ingestion_mark_entities.ref')
      .join('ingestion_marks', 'ingestion_marks.id', 'ingestion_mark_entities.ingestion_mark_id')
      .whereIn('ingestion_marks.ingestion_id', ingestions);
    const rows: Array<{ ref: string }> = await db('refresh_state_references')
      .select({ ref: 'target_entity_ref' })
      .where('source_key', providerName)
      .whereNotIn('target_entity_ref', marked);
    return rows.map(row => row.ref).filter(ref => !unmarked.has(ref));
  }

  private async reportBlocked(stranded: string[], percent: number): Promise<void> {
    const db = await this.options.database();
    const rows: Array<{ entity_id: string; entity_ref: string }> = await db('refresh_state')
      .select('entity_id', 'entity_ref')
      .whereIn('entity_ref', stranded.slice(0, 20));
    const calls = rows
      .map(row => `  curl -X DELETE -H "Authorization: Bearer $TOKEN" <backend>/api/catalog/entities/by-uid/${row.entity_id}  # ${row.entity_ref}`)
      .join('\n');
    this.options.logger.warn(
      `${stranded.length} entities (${Math.round(percent)}% of this walk) are in the catalog but no longer in authentik, ` +
        `and more than incremental.rejectRemovalsAbovePercentage (${this.options.rejectRemovalsAbovePercentage}%) to remove ` +
        `automatically. They are removed at a later walk once they are few enough; to remove them now, raise the ` +
        `percentage for one walk or delete them:\n${calls}${stranded.length > 20 ? `\n  … and ${stranded.length - 20} more` : ''}`,
    );
  }
}

function preview(refs: string[]): string {
  return refs.length > 5 ? `${refs.slice(0, 5).join(', ')} and ${refs.length - 5} more` : refs.join(', ');
}
