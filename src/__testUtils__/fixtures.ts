/**
 * Small builders for authentik objects as this module sees them (parsed) and as authentik
 * sends them (wire JSON), shared by the mapping, client and walk tests.
 */
import { createHash } from 'node:crypto';
import { AuthentikGroup, AuthentikPage, AuthentikUser } from '../client/schemas';
import { MappingOptions } from '../mapping/types';

export const BASE_URL = 'https://authentik.example.com';

/** A deterministic dashed UUID for group number `n` (distinct for distinct `n`). */
export function groupUuid(n: number): string {
  const hex = createHash('sha256').update(`group-${n}`).digest('hex').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The same UUID as authentik's event contexts write it: no dashes. */
export function undashed(uuid: string): string {
  return uuid.replace(/-/g, '');
}

/** authentik's `uid`: a sha256 hex digest. */
export function userUid(pk: number): string {
  return createHash('sha256').update(`user-${pk}`).digest('hex');
}

/** A parsed authentik user: active, internal, no groups unless overridden. */
export function aUser(overrides: Partial<AuthentikUser> = {}): AuthentikUser {
  const pk = overrides.pk ?? 1;
  return {
    pk,
    username: `user${pk}`,
    name: `User ${pk}`,
    email: `user${pk}@example.com`,
    is_active: true,
    type: 'internal',
    uid: userUid(pk),
    avatar: `https://www.gravatar.com/avatar/${pk}`,
    path: 'users',
    groups: [],
    ...overrides,
  };
}

/**
 * A parsed authentik group in the 2025.12+ shape (`parents`). `num_pk` defaults to 1 and
 * `pk` to `groupUuid(num_pk)`.
 */
export function aGroup(overrides: Partial<AuthentikGroup> = {}): AuthentikGroup {
  const numPk = 'num_pk' in overrides ? overrides.num_pk : 1;
  return {
    pk: groupUuid(numPk ?? 0),
    num_pk: numPk,
    name: `Group ${numPk}`,
    parents: [],
    users: [],
    ...overrides,
  };
}

/** A parsed authentik group in the ≤ 2025.10 shape: a single `parent`, no `parents`. */
export function aLegacyGroup(overrides: Partial<AuthentikGroup> = {}): AuthentikGroup {
  const { parents: _omitted, ...group } = aGroup(overrides);
  return { parent: null, ...group };
}

export function mappingOptions(overrides: Partial<MappingOptions> = {}): MappingOptions {
  return {
    instanceId: 'default',
    baseUrl: BASE_URL,
    excludeGroups: [],
    includeServiceAccounts: false,
    ...overrides,
  };
}

/** A user as `GET /core/users/` returns it, with fields this module ignores. */
export function userJson(user: AuthentikUser, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: user.pk,
    username: user.username,
    name: user.name,
    is_active: user.is_active,
    last_login: null,
    date_joined: '2025-01-02T03:04:05.000000Z',
    is_superuser: false,
    groups: user.groups,
    groups_obj: null,
    roles: [],
    roles_obj: null,
    email: user.email,
    avatar: user.avatar ?? 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
    attributes: { 'goauthentik.io/user/source': 'ldap' },
    uid: user.uid,
    path: user.path ?? 'users',
    type: user.type,
    uuid: '5a3b1c2d-0000-4000-8000-00000000000' + (user.pk % 10),
    password_change_date: '2025-01-02T03:04:05.000000Z',
    last_updated: '2025-06-01T00:00:00.000000Z',
    ...extra,
  };
}

/** A group as authentik 2025.12+ returns it (`parents`, `children`). */
export function groupJson(group: AuthentikGroup, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: group.pk,
    num_pk: group.num_pk,
    name: group.name,
    is_superuser: false,
    parents: group.parents ?? [],
    parents_obj: null,
    users: group.users ?? [],
    users_obj: null,
    attributes: {},
    roles: [],
    roles_obj: [],
    inherited_roles_obj: null,
    children: [],
    children_obj: null,
    ...extra,
  };
}

/** A group as authentik ≤ 2025.10 returns it (`parent`, `parent_name`). */
export function legacyGroupJson(group: AuthentikGroup, parentName: string | null = null): Record<string, unknown> {
  return {
    pk: group.pk,
    num_pk: group.num_pk,
    name: group.name,
    is_superuser: false,
    parent: group.parent ?? null,
    parent_name: parentName,
    users: group.users ?? [],
    users_obj: null,
    attributes: {},
    roles: [],
    roles_obj: [],
  };
}

/** The pagination envelope authentik puts around page `page` of a list of `count` items. */
export function pageJson<T>(
  results: T[],
  { page = 1, pageSize = 20, count = results.length }: { page?: number; pageSize?: number; count?: number } = {},
): { pagination: Record<string, number>; results: T[]; autocomplete: Record<string, unknown> } {
  const totalPages = Math.max(1, Math.ceil(count / pageSize));
  const start = count === 0 ? 0 : (page - 1) * pageSize + 1;
  return {
    pagination: {
      next: page < totalPages ? page + 1 : 0,
      previous: page > 1 ? page - 1 : 0,
      count,
      current: page,
      total_pages: totalPages,
      start_index: start,
      end_index: count === 0 ? 0 : start + results.length - 1,
    },
    results,
    autocomplete: {},
  };
}

/** Offset pagination over `all` as authentik does it (page 1 of an empty list exists). */
export function slicePage<T>(all: T[], page: number, pageSize: number): AuthentikPage<T> | undefined {
  const totalPages = Math.max(1, Math.ceil(all.length / pageSize));
  if (page < 1 || page > totalPages) {
    return undefined; // 404 {"detail": "Invalid page."}
  }
  const results = all.slice((page - 1) * pageSize, page * pageSize);
  const envelope = pageJson(results, { page, pageSize, count: all.length });
  return {
    results,
    pagination: {
      next: envelope.pagination.next,
      previous: envelope.pagination.previous,
      count: envelope.pagination.count,
      current: envelope.pagination.current,
      total_pages: envelope.pagination.total_pages,
      start_index: envelope.pagination.start_index,
      end_index: envelope.pagination.end_index,
    },
  };
}
