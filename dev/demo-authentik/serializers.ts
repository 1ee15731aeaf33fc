import { DemoDirectory } from './directory';
import { drfDateTime } from './http';
import { Attributes, GroupRecord, UserRecord, UserType } from './types';

/**
 * authentik's REST representations of users and groups.
 * `parents`: authentik ≥ 2025.12 (multi-parent groups, user roles).
 * `parent`: authentik ≤ 2025.10 (`parent` + `parent_name`, no `parents`, no user roles).
 */
export type ApiShape = 'parents' | 'parent';

export interface ApiPartialGroup {
  pk: string;
  num_pk: number;
  name: string;
  is_superuser: boolean;
  attributes: Attributes;
}

export interface ApiRelatedGroup {
  pk: string;
  name: string;
  is_superuser: boolean;
  attributes: Attributes;
  group_uuid: string;
}

export interface ApiPartialUser {
  pk: number;
  username: string;
  name: string;
  is_active: boolean;
  last_login: string | null;
  email: string;
  attributes: Attributes;
  uid: string;
}

/** Fields absent from a shape are `undefined` (JSON.stringify leaves them out). */
export interface ApiUser extends ApiPartialUser {
  date_joined: string;
  is_superuser: boolean;
  groups: string[];
  groups_obj: ApiPartialGroup[] | null;
  roles?: string[];
  roles_obj?: never[] | null;
  avatar: string;
  path: string;
  type: UserType;
  uuid: string;
  password_change_date: string;
  /** authentik 2025.8+. */
  last_updated?: string;
}

export interface ApiGroup {
  pk: string;
  num_pk: number;
  name: string;
  is_superuser: boolean;
  parents?: string[];
  parents_obj?: ApiRelatedGroup[] | null;
  parent?: string | null;
  parent_name?: string | null;
  users: number[];
  users_obj: ApiPartialUser[] | null;
  attributes: Attributes;
  roles: string[];
  roles_obj: never[];
  inherited_roles_obj?: never[] | null;
  children: string[];
  children_obj: ApiRelatedGroup[] | null;
}

export interface UserIncludes {
  groups: boolean;
  roles: boolean;
}

export interface GroupIncludes {
  users: boolean;
  children: boolean;
  parents: boolean;
  inheritedRoles: boolean;
}

export class Serializers {
  constructor(
    private readonly directory: DemoDirectory,
    private readonly shape: ApiShape,
    /** authentik 2025.8+ sends users' `last_updated`; older versions do not. */
    private readonly lastUpdated = true,
  ) {}

  // Objects are built as single literals (no spread, no properties added afterwards):
  // V8 handles those much faster, which matters for 100-user pages of a 100k directory.
  user(user: Readonly<UserRecord>, include: UserIncludes): ApiUser {
    const groups = [...this.directory.groupsOf(user.pk)];
    const withRoles = this.shape === 'parents';
    return {
      pk: user.pk,
      username: user.username,
      name: user.name,
      is_active: user.is_active,
      last_login: user.last_login === null ? null : drfDateTime(user.last_login),
      date_joined: drfDateTime(user.date_joined),
      is_superuser: this.directory.isSuperuser(user.pk),
      groups,
      groups_obj: include.groups ? groups.flatMap(pk => this.partialGroup(pk)) : null,
      roles: withRoles ? [] : undefined,
      roles_obj: withRoles ? (include.roles ? [] : null) : undefined,
      email: user.email,
      avatar: this.directory.avatarOf(user),
      attributes: user.attributes,
      uid: user.uid,
      path: user.path,
      type: user.type,
      uuid: user.uuid,
      password_change_date: drfDateTime(user.date_joined),
      last_updated: this.lastUpdated ? drfDateTime(user.last_updated) : undefined,
    };
  }

  group(group: Readonly<GroupRecord>, include: GroupIncludes): ApiGroup {
    const users = [...this.directory.usersOf(group.pk)].sort((a, b) => a - b);
    const children = [...this.directory.childrenOf(group.pk)];
    const multiParent = this.shape === 'parents';
    // ≤ 2025.10 had a single parent: the first of ours stands for it.
    const parent = !multiParent && group.parents.length > 0 ? this.directory.groupRecord(group.parents[0]) : undefined;
    return {
      pk: group.pk,
      num_pk: group.num_pk,
      name: group.name,
      is_superuser: group.is_superuser,
      parents: multiParent ? [...group.parents] : undefined,
      parents_obj: multiParent ? (include.parents ? group.parents.flatMap(pk => this.relatedGroup(pk)) : null) : undefined,
      parent: multiParent ? undefined : (parent?.pk ?? null),
      parent_name: multiParent ? undefined : (parent?.name ?? null),
      users,
      users_obj: include.users ? users.flatMap(pk => this.partialUserByPk(pk)) : null,
      attributes: group.attributes,
      roles: [],
      roles_obj: [],
      inherited_roles_obj: multiParent ? (include.inheritedRoles ? [] : null) : undefined,
      children,
      children_obj: include.children ? children.flatMap(pk => this.relatedGroup(pk)) : null,
    };
  }

  private partialUser(user: Readonly<UserRecord>): ApiPartialUser {
    return {
      pk: user.pk,
      username: user.username,
      name: user.name,
      is_active: user.is_active,
      last_login: user.last_login === null ? null : drfDateTime(user.last_login),
      email: user.email,
      attributes: user.attributes,
      uid: user.uid,
    };
  }

  private partialUserByPk(pk: number): ApiPartialUser[] {
    const user = this.directory.userRecord(pk);
    return user ? [this.partialUser(user)] : [];
  }

  private partialGroup(pk: string): ApiPartialGroup[] {
    const group = this.directory.groupRecord(pk);
    if (!group) return [];
    return [{ pk: group.pk, num_pk: group.num_pk, name: group.name, is_superuser: group.is_superuser, attributes: group.attributes }];
  }

  private relatedGroup(pk: string): ApiRelatedGroup[] {
    const group = this.directory.groupRecord(pk);
    if (!group) return [];
    return [{ pk: group.pk, name: group.name, is_superuser: group.is_superuser, attributes: group.attributes, group_uuid: group.pk }];
  }
}
