import { Entity } from '@backstage/catalog-model';

/** An entity this module emitted, as the delta planner needs to know it. */
export interface KnownEntity {
  name: string;
  /** authentik pk: user pk as a decimal string, group UUID dashed. */
  pk: string;
}

/** A Group entity this module emitted, with the relations that depend on other groups. */
export interface KnownGroup extends KnownEntity {
  parent?: string;
  children: string[];
}

/**
 * What the catalog currently holds for one authentik instance: the "before" of a delta.
 * authentik's events say which object changed, not what it was; the catalog remembers.
 */
export interface CatalogView {
  /** Every Group entity of this instance. */
  groups(): Promise<KnownGroup[]>;
  /** User entities whose `spec.memberOf` names this group. */
  usersInGroup(groupName: string): Promise<KnownEntity[]>;
  /** The same users' whole entities (to rebuild them with other memberships). */
  memberEntities(groupName: string): Promise<Entity[]>;
  userByPk(pk: string): Promise<KnownEntity | undefined>;
  /** The users among these pks that the catalog holds. */
  usersWithPks(pks: string[]): Promise<KnownEntity[]>;
  userByName(name: string): Promise<KnownEntity | undefined>;
  /** Users named `<name>-<suffix>` because an older user held `name`. */
  usersDenied(name: string): Promise<KnownEntity[]>;
}

/** A Group entity's `spec.parent` and `spec.children`, as far as they are well-formed. */
export function relationsOf(entity: Entity): { parent?: string; children: string[] } {
  const { parent, children } = entity.spec ?? {};
  return {
    ...(typeof parent === 'string' ? { parent } : {}),
    children: Array.isArray(children) ? children.filter((c): c is string => typeof c === 'string') : [],
  };
}
