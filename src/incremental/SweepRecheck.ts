import { Entity } from '@backstage/catalog-model';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikUser } from '../client/schemas';
import { ANNOTATION_USER_PK, MappingOptions } from '../mapping/types';
import { isEligibleUser } from '../mapping/userMapping';
import { mapConcurrent } from '../util/mapConcurrent';

export interface SweepRecheckOptions {
  api: AuthentikApi;
  /** The refs the engine's sweep would remove at the end of this walk (`WalkRemovalGuard.sweptRefs`). */
  sweptRefs(unmarked: ReadonlySet<string>): Promise<string[]>;
  /** The catalog's entities at these refs (undefined where it holds none), for their pks. */
  lookup(refs: string[]): Promise<Array<Entity | undefined>>;
  mapping: Pick<MappingOptions, 'includeServiceAccounts'>;
  /** authentik requests in flight at once. */
  concurrency: number;
  /** Users read again per walk at most; the rest are swept as before. Default 100. */
  maxUsers?: number;
}

export interface SweepRecheckResult {
  /** Users the walk did not see that authentik still holds, active and eligible. */
  live: AuthentikUser[];
  /** Users the sweep removes that were read again and are gone, inactive or ineligible. */
  confirmedGone: number;
  /** Users the sweep removes without a second read (over `maxUsers`). */
  unchecked: number;
}

/**
 * Reads again, one by one, the users a walk's sweep is about to remove. authentik's user
 * list has page numbers only, so a deletion and a creation landing together while a window
 * is in flight can hide a live user from one walk (see README, "What makes the walk safe");
 * without this, the sweep would remove that user's entity until the next walk. A walk
 * usually removes few users (webhooks already removed the deleted ones), so this costs a
 * request or two; a read that fails fails the walk's last step, which the engine retries:
 * nothing is removed on a guess.
 */
export class SweepRecheck {
  constructor(private readonly options: SweepRecheckOptions) {}

  async check(unmarked: ReadonlySet<string>, signal?: AbortSignal): Promise<SweepRecheckResult> {
    const { api, mapping, concurrency } = this.options;
    const maxUsers = this.options.maxUsers ?? 100;
    const refs = (await this.options.sweptRefs(unmarked)).filter(ref => ref.startsWith('user:'));
    const checked = refs.slice(0, maxUsers);
    const held = checked.length > 0 ? await this.options.lookup(checked) : [];
    // A ref the catalog no longer holds (a delta removed or renamed it) needs no read.
    const pks = [...new Set(held.flatMap(entity => entity?.metadata.annotations?.[ANNOTATION_USER_PK] ?? []))];
    const users = await mapConcurrent(pks, concurrency, pk => api.getUser(pk, signal));
    const live = users.filter((user): user is AuthentikUser => !!user && isEligibleUser(user, mapping));
    return { live, confirmedGone: pks.length - live.length, unchecked: refs.length - checked.length };
  }
}
