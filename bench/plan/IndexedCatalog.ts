import { isDeepStrictEqual } from 'node:util';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogView, KnownEntity, KnownGroup, relationsOf } from '../../src/events/CatalogView';
import { PlannedDelta } from '../../src/events/DeltaPlanner';
import { ANNOTATION_GROUP_PK, ANNOTATION_NAME_TAKEN, ANNOTATION_USER_PK } from '../../src/mapping/types';

/**
 * The catalog as a map of entity refs with the lookups a real catalog answers from its
 * indexes (by annotation, by `spec.memberOf`), so that a 100,000-user catalog does not turn
 * every lookup into a scan. The engine's delta semantics: removals, then upserts.
 */
export class IndexedCatalog implements CatalogView {
  private readonly entities = new Map<string, Entity>();
  private readonly userRefByPk = new Map<string, string>();
  private readonly membersByGroup = new Map<string, Set<string>>();
  private readonly deniedByName = new Map<string, Set<string>>();

  constructor(entities: Entity[]) {
    for (const entity of entities) this.put(entity);
  }

  get size(): number {
    return this.entities.size;
  }

  apply(delta: PlannedDelta): void {
    for (const removed of delta.removed) this.drop(stringifyEntityRef({ kind: removed.kind, namespace: 'default', name: removed.name }));
    for (const entity of delta.added) this.put(entity);
  }

  /** Refs whose entity differs between the two catalogs. */
  diff(other: IndexedCatalog): string[] {
    const refs = new Set([...this.entities.keys(), ...other.entities.keys()]);
    return [...refs].filter(ref => !isDeepStrictEqual(this.entities.get(ref), other.entities.get(ref)));
  }

  async groups(): Promise<KnownGroup[]> {
    return [...this.entities.values()]
      .filter(e => e.kind === 'Group')
      .map(e => ({ name: e.metadata.name, pk: e.metadata.annotations![ANNOTATION_GROUP_PK], ...relationsOf(e) }));
  }

  async usersInGroup(groupName: string): Promise<KnownEntity[]> {
    return this.known(this.membersByGroup.get(groupName));
  }

  async memberEntities(groupName: string): Promise<Entity[]> {
    return [...(this.membersByGroup.get(groupName) ?? [])].flatMap(ref => this.entities.get(ref) ?? []);
  }

  async userByPk(pk: string): Promise<KnownEntity | undefined> {
    const ref = this.userRefByPk.get(pk);
    return ref ? this.known([ref])[0] : undefined;
  }

  async usersWithPks(pks: string[]): Promise<KnownEntity[]> {
    return this.known(pks.flatMap(pk => this.userRefByPk.get(pk) ?? []));
  }

  async userByName(name: string): Promise<KnownEntity | undefined> {
    return this.known([stringifyEntityRef({ kind: 'User', namespace: 'default', name })])[0];
  }

  async usersDenied(name: string): Promise<KnownEntity[]> {
    return this.known(this.deniedByName.get(name));
  }

  private known(refs: Iterable<string> | undefined): KnownEntity[] {
    return [...(refs ?? [])].flatMap(ref => {
      const entity = this.entities.get(ref);
      return entity?.kind === 'User' ? [{ name: entity.metadata.name, pk: entity.metadata.annotations![ANNOTATION_USER_PK] }] : [];
    });
  }

  private put(entity: Entity): void {
    const ref = stringifyEntityRef(entity);
    this.drop(ref);
    this.entities.set(ref, entity);
    if (entity.kind !== 'User') return;
    const annotations = entity.metadata.annotations ?? {};
    this.userRefByPk.set(annotations[ANNOTATION_USER_PK], ref);
    for (const group of memberOf(entity)) index(this.membersByGroup, group, ref);
    if (annotations[ANNOTATION_NAME_TAKEN]) index(this.deniedByName, annotations[ANNOTATION_NAME_TAKEN], ref);
  }

  private drop(ref: string): void {
    const entity = this.entities.get(ref);
    if (!entity) return;
    this.entities.delete(ref);
    if (entity.kind !== 'User') return;
    const annotations = entity.metadata.annotations ?? {};
    if (this.userRefByPk.get(annotations[ANNOTATION_USER_PK]) === ref) this.userRefByPk.delete(annotations[ANNOTATION_USER_PK]);
    for (const group of memberOf(entity)) this.membersByGroup.get(group)?.delete(ref);
    if (annotations[ANNOTATION_NAME_TAKEN]) this.deniedByName.get(annotations[ANNOTATION_NAME_TAKEN])?.delete(ref);
  }
}

function memberOf(entity: Entity): string[] {
  const value = entity.spec?.memberOf;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function index(map: Map<string, Set<string>>, key: string, ref: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(ref);
}
