import { AuthService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { locationAnnotations } from '../mapping/defaultTransformers';
import { ANNOTATION_GROUP_PK, ANNOTATION_NAME_TAKEN, ANNOTATION_USER_PK } from '../mapping/types';
import { CatalogView, KnownEntity, KnownGroup, relationsOf } from './CatalogView';

const FIELDS = ['kind', 'metadata.name', 'metadata.annotations'];
/** Values in one catalog filter (any-of); keeps query strings and SQL `IN` lists short. */
const PKS_PER_QUERY = 100;

/** A `CatalogView` over the catalog's own API, limited to one authentik instance. */
export class CatalogServiceView implements CatalogView {
  private readonly location: string;

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    baseUrl: string,
  ) {
    this.location = locationAnnotations(baseUrl)['backstage.io/managed-by-location'];
  }

  async groups(): Promise<KnownGroup[]> {
    const { items } = await this.catalog.getEntities(
      { filter: { kind: 'Group', ...this.ours() }, fields: [...FIELDS, 'spec.parent', 'spec.children'] },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return items.flatMap(entity => {
      const found = known(entity, ANNOTATION_GROUP_PK);
      return found ? [{ ...found, ...relationsOf(entity) }] : [];
    });
  }

  async usersInGroup(groupName: string): Promise<KnownEntity[]> {
    return this.find({ kind: 'User', 'spec.memberOf': groupName }, ANNOTATION_USER_PK);
  }

  async memberEntities(groupName: string): Promise<Entity[]> {
    const { items } = await this.catalog.getEntities(
      {
        filter: { kind: 'User', 'spec.memberOf': groupName, ...this.ours() },
        fields: ['apiVersion', 'kind', 'metadata.name', 'metadata.annotations', 'spec'],
      },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return items;
  }

  async userByPk(pk: string): Promise<KnownEntity | undefined> {
    const [found] = await this.find({ kind: 'User', [`metadata.annotations.${ANNOTATION_USER_PK}`]: pk }, ANNOTATION_USER_PK);
    return found;
  }

  async usersWithPks(pks: string[]): Promise<KnownEntity[]> {
    const found: KnownEntity[] = [];
    for (let start = 0; start < pks.length; start += PKS_PER_QUERY) {
      const chunk = pks.slice(start, start + PKS_PER_QUERY);
      found.push(...(await this.find({ kind: 'User', [`metadata.annotations.${ANNOTATION_USER_PK}`]: chunk }, ANNOTATION_USER_PK)));
    }
    return found;
  }

  async usersDenied(name: string): Promise<KnownEntity[]> {
    return this.find({ kind: 'User', [`metadata.annotations.${ANNOTATION_NAME_TAKEN}`]: name }, ANNOTATION_USER_PK);
  }

  /**
   * The entities at these refs (kind, name, annotations, memberships and group relations);
   * undefined where the catalog holds none. `RecentDeltasView` compares them with the
   * deltas it keeps; `SweepRecheck` takes the users' pks from them.
   */
  async entitiesAt(refs: string[]): Promise<Array<Entity | undefined>> {
    const { items } = await this.catalog.getEntitiesByRefs(
      { entityRefs: refs, fields: [...FIELDS, 'spec.memberOf', 'spec.parent', 'spec.children'] },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return items.map(entity => entity ?? undefined);
  }

  /** Entities of `kind` this instance has in the catalog (one counting query). */
  async count(kind: 'User' | 'Group'): Promise<number> {
    const { totalItems } = await this.catalog.queryEntities(
      { filter: { kind, 'metadata.annotations.backstage.io/managed-by-location': this.location }, fields: ['kind'], limit: 1 },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return totalItems;
  }

  async userByName(name: string): Promise<KnownEntity | undefined> {
    const entity = await this.catalog.getEntityByRef(
      stringifyEntityRef({ kind: 'User', namespace: 'default', name }),
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return entity && this.isOurs(entity) ? known(entity, ANNOTATION_USER_PK) : undefined;
  }

  private async find(filter: Record<string, string | string[]>, pkAnnotation: string): Promise<KnownEntity[]> {
    const { items } = await this.catalog.getEntities(
      { filter: { ...filter, ...this.ours() }, fields: FIELDS },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    return items.flatMap(entity => {
      const found = known(entity, pkAnnotation);
      return found ? [found] : [];
    });
  }

  private ours(): Record<string, string> {
    return { 'metadata.annotations.backstage.io/managed-by-location': this.location };
  }

  private isOurs(entity: Entity): boolean {
    return entity.metadata.annotations?.['backstage.io/managed-by-location'] === this.location;
  }
}

function known(entity: Entity, pkAnnotation: string): KnownEntity | undefined {
  const pk = entity.metadata.annotations?.[pkAnnotation];
  return pk ? { name: entity.metadata.name, pk } : undefined;
}
