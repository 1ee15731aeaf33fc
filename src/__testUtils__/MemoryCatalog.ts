import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogView, KnownEntity, KnownGroup, relationsOf } from '../events/CatalogView';
import { PlannedDelta } from '../events/DeltaPlanner';
import { ANNOTATION_GROUP_PK, ANNOTATION_NAME_TAKEN, ANNOTATION_USER_PK } from '../mapping/types';

/** The catalog as a map of entity refs, with the engine's delta semantics. */
export class MemoryCatalog implements CatalogView {
  readonly entities = new Map<string, Entity>();

  replaceAll(entities: Entity[]): void {
    this.entities.clear();
    for (const entity of entities) this.entities.set(stringifyEntityRef(entity), entity);
  }

  apply(delta: PlannedDelta): void {
    for (const removed of delta.removed) {
      this.entities.delete(stringifyEntityRef({ kind: removed.kind, namespace: 'default', name: removed.name }));
    }
    for (const entity of delta.added) this.entities.set(stringifyEntityRef(entity), entity);
  }

  /** A comparable, order-independent snapshot. */
  snapshot(): Record<string, Entity> {
    return Object.fromEntries([...this.entities.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  async groups(): Promise<KnownGroup[]> {
    return [...this.entities.values()]
      .filter(e => e.kind === 'Group')
      .map(e => ({ name: e.metadata.name, pk: e.metadata.annotations![ANNOTATION_GROUP_PK], ...relationsOf(e) }));
  }

  async usersInGroup(groupName: string): Promise<KnownEntity[]> {
    return this.find('User', ANNOTATION_USER_PK, e => Array.isArray(e.spec?.memberOf) && e.spec.memberOf.includes(groupName));
  }

  async memberEntities(groupName: string): Promise<Entity[]> {
    return [...this.entities.values()].filter(
      e => e.kind === 'User' && Array.isArray(e.spec?.memberOf) && e.spec.memberOf.includes(groupName),
    );
  }

  async userByPk(pk: string): Promise<KnownEntity | undefined> {
    return (await this.find('User', ANNOTATION_USER_PK)).find(u => u.pk === pk);
  }

  async usersWithPks(pks: string[]): Promise<KnownEntity[]> {
    const wanted = new Set(pks);
    return this.find('User', ANNOTATION_USER_PK, e => wanted.has(e.metadata.annotations![ANNOTATION_USER_PK]));
  }

  async usersDenied(name: string): Promise<KnownEntity[]> {
    return this.find('User', ANNOTATION_USER_PK, e => e.metadata.annotations?.[ANNOTATION_NAME_TAKEN] === name);
  }

  async userByName(name: string): Promise<KnownEntity | undefined> {
    return (await this.find('User', ANNOTATION_USER_PK)).find(u => u.name === name);
  }

  private async find(kind: string, pkAnnotation: string, where: (e: Entity) => boolean = () => true): Promise<KnownEntity[]> {
    return [...this.entities.values()]
      .filter(e => e.kind === kind && where(e))
      .map(e => ({ name: e.metadata.name, pk: e.metadata.annotations![pkAnnotation] }));
  }
}
