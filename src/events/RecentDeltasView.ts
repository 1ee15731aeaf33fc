import { Entity } from '@backstage/catalog-model';
import { ANNOTATION_GROUP_PK, ANNOTATION_NAME_TAKEN, ANNOTATION_USER_PK } from '../mapping/types';
import { CatalogView, KnownEntity, KnownGroup, relationsOf } from './CatalogView';

interface Recent {
  /** The entity as last emitted, or null when it was last removed. */
  entity: Entity | null;
  name: string;
  at: number;
}

/**
 * The catalog processes a delta a few seconds after it is applied, so a second event right
 * after a first one would read a stale "before". This view lays the deltas this process
 * applied recently over the catalog's answers.
 */
export class RecentDeltasView implements CatalogView {
  private readonly users = new Map<string, Recent>();
  private readonly groupsByPk = new Map<string, Recent>();

  constructor(
    private readonly base: CatalogView,
    private readonly ttlMs = 120_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Remembers a delta that was just handed to the engine. */
  record(added: Entity[], removed: Array<{ kind: string; name: string; pk: string }>): void {
    const at = this.now();
    for (const entry of removed) {
      this.mapFor(entry.kind)?.set(entry.pk, { entity: null, name: entry.name, at });
    }
    for (const entity of added) {
      const pk = pkOf(entity);
      if (pk) this.mapFor(entity.kind)?.set(pk, { entity, name: entity.metadata.name, at });
    }
  }

  async groups(): Promise<KnownGroup[]> {
    const recent = this.fresh(this.groupsByPk);
    const recentNames = new Set([...recent.values()].map(r => r.name));
    const result = (await this.base.groups()).filter(g => !recent.has(g.pk) && !recentNames.has(g.name));
    for (const [pk, r] of recent) if (r.entity) result.push({ name: r.name, pk, ...relationsOf(r.entity) });
    return result;
  }

  async usersInGroup(groupName: string): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersInGroup(groupName)).filter(u => !recent.has(u.pk));
    for (const [pk, r] of recent) {
      const memberOf = r.entity?.spec?.memberOf;
      if (Array.isArray(memberOf) && memberOf.includes(groupName)) result.push({ name: r.name, pk });
    }
    return result;
  }

  async memberEntities(groupName: string): Promise<Entity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.memberEntities(groupName)).filter(e => !recent.has(pkOf(e) ?? ''));
    for (const r of recent.values()) {
      const memberOf = r.entity?.spec?.memberOf;
      if (r.entity && Array.isArray(memberOf) && memberOf.includes(groupName)) result.push(r.entity);
    }
    return result;
  }

  async usersWithPks(pks: string[]): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersWithPks(pks.filter(pk => !recent.has(pk)))).filter(u => !recent.has(u.pk));
    for (const pk of pks) {
      const r = recent.get(pk);
      if (r?.entity) result.push({ name: r.name, pk });
    }
    return result;
  }

  async usersDenied(name: string): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersDenied(name)).filter(u => !recent.has(u.pk));
    for (const [pk, r] of recent) {
      if (r.entity?.metadata.annotations?.[ANNOTATION_NAME_TAKEN] === name) result.push({ name: r.name, pk });
    }
    return result;
  }

  async userByPk(pk: string): Promise<KnownEntity | undefined> {
    const recent = this.fresh(this.users).get(pk);
    if (recent) return recent.entity ? { name: recent.name, pk } : undefined;
    return this.base.userByPk(pk);
  }

  async userByName(name: string): Promise<KnownEntity | undefined> {
    let removed = false;
    for (const [pk, r] of this.fresh(this.users)) {
      if (r.name !== name) continue;
      if (r.entity) return { name, pk };
      removed = true;
    }
    const found = await this.base.userByName(name);
    if (found && (removed || this.fresh(this.users).has(found.pk))) {
      // The catalog still shows a holder that a recent delta moved or removed.
      const recent = this.fresh(this.users).get(found.pk);
      return recent?.entity && recent.name === name ? found : undefined;
    }
    return found;
  }

  private mapFor(kind: string): Map<string, Recent> | undefined {
    const lower = kind.toLowerCase();
    return lower === 'user' ? this.users : lower === 'group' ? this.groupsByPk : undefined;
  }

  private fresh(map: Map<string, Recent>): Map<string, Recent> {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, r] of map) if (r.at < cutoff) map.delete(key);
    return map;
  }
}

function pkOf(entity: Entity): string | undefined {
  const annotations = entity.metadata.annotations ?? {};
  return annotations[ANNOTATION_USER_PK] ?? annotations[ANNOTATION_GROUP_PK];
}
