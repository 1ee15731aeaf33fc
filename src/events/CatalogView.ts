/** An entity this module emitted, as the delta planner needs to know it. */
export interface KnownEntity {
  name: string;
  /** authentik pk: user pk as a decimal string, group UUID dashed. */
  pk: string;
}

/**
 * What the catalog currently holds for one authentik instance: the "before" of a delta.
 * authentik's events say which object changed, not what it was; the catalog remembers.
 */
export interface CatalogView {
  /** Every Group entity of this instance. */
  groups(): Promise<KnownEntity[]>;
  /** User entities whose `spec.memberOf` names this group. */
  usersInGroup(groupName: string): Promise<KnownEntity[]>;
  userByPk(pk: string): Promise<KnownEntity | undefined>;
  userByName(name: string): Promise<KnownEntity | undefined>;
  /** Users named `<name>-<suffix>` because an older user held `name`. */
  usersDenied(name: string): Promise<KnownEntity[]>;
}
