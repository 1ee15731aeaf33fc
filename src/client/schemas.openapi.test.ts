/**
 * Our zod schemas against authentik's published OpenAPI client (`@goauthentik/api`, a
 * devDependency): fixtures are typed as the published models, so a field renamed or
 * retyped upstream breaks compilation here, and their wire JSON must satisfy our schemas.
 *
 * The generated `UserToJSON`/`GroupToJSON` serialise *request bodies*: they drop every
 * read-only field (pk, uid, avatar, num_pk, ...), so they cannot produce a response. The
 * `*Wire` functions below are the inverse of the published `*FromJSON` (response
 * deserialisers), and every fixture is checked to round-trip through them.
 */
import {
  Configuration,
  CoreApi,
  Group,
  GroupFromJSON,
  GroupToJSON,
  instanceOfGroup,
  instanceOfUser,
  PaginatedGroupList,
  PaginatedGroupListFromJSON,
  PaginatedUserList,
  PaginatedUserListFromJSON,
  Pagination,
  PartialGroup,
  PartialUser,
  RelatedGroup,
  Role,
  User,
  UserFromJSON,
  UserToJSON,
  UserTypeEnum,
} from '@goauthentik/api';
import { z } from 'zod/v4';
import { BASE_URL, groupUuid, userUid } from '../__testUtils__/fixtures';
import { AuthentikClient } from './AuthentikClient';
import {
  groupPageSchema,
  groupSchema,
  paginationSchema,
  parentPksOf,
  userPageWireSchema,
  userSchema,
} from './schemas';

// ---------------------------------------------------------------------------------------
// Type-level checks: the fields our schemas read exist in the OpenAPI models, with types
// our schemas accept. (Compile-time: `npx tsc --noEmit`.)

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** snake_case wire name → the generated client's camelCase property. */
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** Our schema fields with no counterpart in the OpenAPI model. */
type NotInOpenApi<S, O> = Exclude<Camel<keyof S & string>, keyof O>;
/** Our schema fields whose OpenAPI values our schema would not accept. */
type Incompatible<S, O> = {
  [K in keyof S & string]: Camel<K> extends keyof O
    ? [NonNullable<O[Camel<K>]>] extends [NonNullable<S[K]>]
      ? never
      : K
    : never;
}[keyof S & string];
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
/** Fields our schema requires that the OpenAPI model marks optional. */
type StricterThanOpenApi<S, O> = {
  [K in RequiredKeys<S> & string]: Camel<K> extends keyof O ? (Camel<K> extends RequiredKeys<O> ? never : K) : never;
}[RequiredKeys<S> & string];

type UserIn = z.input<typeof userSchema>;
type GroupIn = z.input<typeof groupSchema>;
type PaginationIn = z.input<typeof paginationSchema>;

// Users: every field we read exists and is compatible.
const userFieldsExist: Equals<NotInOpenApi<UserIn, User>, never> = true;
const userFieldsCompatible: Equals<Incompatible<UserIn, User>, never> = true;
// `is_active` is optional in the OpenAPI model; we require it (never guess whether a user
// is active). authentik's UserSerializer always sends it.
const userStricter: Equals<StricterThanOpenApi<UserIn, User>, 'is_active'> = true;

// Groups: the published 2026.8 model has `parents` and NOT `parent`; our schema also
// reads `parent` for authentik ≤ 2025.10, which is the only field it lacks.
const groupFieldsExist: Equals<NotInOpenApi<GroupIn, Group>, 'parent'> = true;
const groupHasNoParent: 'parent' extends keyof Group ? false : true = true;
const groupHasParents: 'parents' extends keyof Group ? true : false = true;
const groupFieldsCompatible: Equals<Incompatible<GroupIn, Group>, never> = true;
const groupStricter: Equals<StricterThanOpenApi<GroupIn, Group>, never> = true;

// Pagination: same fields, all required on both sides.
const paginationFieldsExist: Equals<NotInOpenApi<PaginationIn, Pagination>, never> = true;
const paginationFieldsCompatible: Equals<Incompatible<PaginationIn, Pagination>, never> = true;
const paginationSameFields: Equals<Camel<keyof PaginationIn & string>, keyof Pagination> = true;

// The user type values we filter on are the published enum's.
const userTypes: Array<'internal' | 'external' | 'service_account' | 'internal_service_account'> = [
  UserTypeEnum.Internal,
  UserTypeEnum.External,
  UserTypeEnum.ServiceAccount,
  UserTypeEnum.InternalServiceAccount,
];

// ---------------------------------------------------------------------------------------
// Response wire JSON of the published models (inverse of their FromJSON).

const iso = (d: Date | null | undefined) => (d == null ? d : d.toISOString());

function partialGroupWire(g: PartialGroup) {
  return { pk: g.pk, num_pk: g.numPk, name: g.name, is_superuser: g.isSuperuser, attributes: g.attributes };
}
function relatedGroupWire(g: RelatedGroup) {
  return { pk: g.pk, name: g.name, is_superuser: g.isSuperuser, attributes: g.attributes, group_uuid: g.groupUuid };
}
function partialUserWire(u: PartialUser) {
  return {
    pk: u.pk,
    username: u.username,
    name: u.name,
    is_active: u.isActive,
    last_login: iso(u.lastLogin),
    email: u.email,
    attributes: u.attributes,
    uid: u.uid,
  };
}
const roleWire = (r: Role) => ({ pk: r.pk, name: r.name });

function userWire(u: User) {
  return {
    pk: u.pk,
    username: u.username,
    name: u.name,
    is_active: u.isActive,
    last_login: iso(u.lastLogin),
    date_joined: iso(u.dateJoined),
    is_superuser: u.isSuperuser,
    groups: u.groups,
    groups_obj: u.groupsObj && u.groupsObj.map(partialGroupWire),
    roles: u.roles,
    roles_obj: u.rolesObj && u.rolesObj.map(roleWire),
    email: u.email,
    avatar: u.avatar,
    attributes: u.attributes,
    uid: u.uid,
    path: u.path,
    type: u.type,
    uuid: u.uuid,
    password_change_date: iso(u.passwordChangeDate),
    last_updated: iso(u.lastUpdated),
  };
}

function groupWire(g: Group) {
  return {
    pk: g.pk,
    num_pk: g.numPk,
    name: g.name,
    is_superuser: g.isSuperuser,
    parents: g.parents,
    parents_obj: g.parentsObj && g.parentsObj.map(relatedGroupWire),
    users: g.users,
    users_obj: g.usersObj && g.usersObj.map(partialUserWire),
    attributes: g.attributes,
    roles: g.roles,
    roles_obj: g.rolesObj.map(roleWire),
    inherited_roles_obj: g.inheritedRolesObj && g.inheritedRolesObj.map(roleWire),
    children: g.children,
    children_obj: g.childrenObj && g.childrenObj.map(relatedGroupWire),
  };
}

function paginationWire(p: Pagination) {
  return {
    next: p.next,
    previous: p.previous,
    count: p.count,
    current: p.current,
    total_pages: p.totalPages,
    start_index: p.startIndex,
    end_index: p.endIndex,
  };
}

/** JSON as it travels: undefined fields vanish. */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

// ---------------------------------------------------------------------------------------
// Fixtures typed as the published models.

const engineeringPk = groupUuid(1);
const backendPk = groupUuid(2);

const jane: User = {
  pk: 42,
  username: 'jdoe',
  name: 'Jane Doe',
  isActive: true,
  lastLogin: new Date('2026-03-01T10:00:00.000Z'),
  dateJoined: new Date('2025-01-02T03:04:05.000Z'),
  isSuperuser: false,
  groups: [engineeringPk, backendPk],
  groupsObj: null,
  roles: [],
  rolesObj: null,
  email: 'jane@example.com',
  avatar: 'https://secure.gravatar.com/avatar/0123abcd',
  attributes: { 'goauthentik.io/user/source': 'ldap' },
  uid: userUid(42),
  path: 'users',
  type: UserTypeEnum.Internal,
  uuid: '0a2b4c6d-0000-4000-8000-000000000042',
  passwordChangeDate: new Date('2025-01-02T03:04:05.000Z'),
  lastUpdated: new Date('2026-03-01T10:00:00.000Z'),
};

/** include_groups / include_roles left at their default (true): embedded objects. */
const outpost: User = {
  ...jane,
  pk: 7,
  username: 'ak-outpost-0a1b2c3d4e5f',
  name: 'Outpost authentik Embedded Outpost Service-Account',
  email: '',
  avatar: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
  uid: userUid(7),
  path: 'goauthentik.io/outposts',
  type: UserTypeEnum.InternalServiceAccount,
  groups: [engineeringPk],
  groupsObj: [{ pk: engineeringPk, numPk: 1, name: 'Engineering', isSuperuser: false, attributes: {} }],
  roles: ['c0ffee00-0000-4000-8000-000000000001'],
  rolesObj: [{ pk: 'c0ffee00-0000-4000-8000-000000000001', name: 'Viewer' }],
};

/** Only what the OpenAPI model requires. */
const minimalUser: User = {
  pk: 9,
  username: 'minimal',
  name: '',
  dateJoined: new Date('2025-01-02T03:04:05.000Z'),
  isSuperuser: false,
  groupsObj: null,
  rolesObj: null,
  avatar: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
  uid: userUid(9),
  uuid: '0a2b4c6d-0000-4000-8000-000000000009',
  passwordChangeDate: new Date('2025-01-02T03:04:05.000Z'),
  lastUpdated: new Date('2025-01-02T03:04:05.000Z'),
};

const engineering: Group = {
  pk: engineeringPk,
  numPk: 1,
  name: 'Engineering',
  isSuperuser: false,
  parents: [],
  parentsObj: null,
  users: [42, 7],
  usersObj: null,
  attributes: {},
  roles: [],
  rolesObj: [],
  inheritedRolesObj: null,
  children: [backendPk],
  childrenObj: null,
};

/** include_users / include_parents / include_children set: embedded objects. */
const backend: Group = {
  pk: backendPk,
  numPk: 2,
  name: 'Backend Team',
  isSuperuser: false,
  parents: [engineeringPk],
  parentsObj: [{ pk: engineeringPk, name: 'Engineering', isSuperuser: false, attributes: {}, groupUuid: engineeringPk }],
  users: [42],
  usersObj: [
    {
      pk: 42,
      username: 'jdoe',
      name: 'Jane Doe',
      isActive: true,
      lastLogin: new Date('2026-03-01T10:00:00.000Z'),
      email: 'jane@example.com',
      attributes: {},
      uid: userUid(42),
    },
  ],
  attributes: { team: 'backend' },
  roles: ['c0ffee00-0000-4000-8000-000000000001'],
  rolesObj: [{ pk: 'c0ffee00-0000-4000-8000-000000000001', name: 'Viewer' }],
  inheritedRolesObj: [],
  children: [],
  childrenObj: [],
};

const minimalGroup: Group = {
  pk: groupUuid(3),
  numPk: 3,
  name: 'Minimal',
  parentsObj: null,
  usersObj: null,
  rolesObj: [],
  inheritedRolesObj: null,
  children: [],
  childrenObj: null,
};

const lastPage: Pagination = {
  next: 0,
  previous: 0,
  count: 3,
  current: 1,
  totalPages: 1,
  startIndex: 1,
  endIndex: 3,
};

const userList: PaginatedUserList = { pagination: lastPage, results: [jane, outpost, minimalUser], autocomplete: {} };
const groupList: PaginatedGroupList = {
  pagination: lastPage,
  results: [engineering, backend, minimalGroup],
  autocomplete: {},
};

describe('fixtures are what the published client reads', () => {
  it.each([
    ['full user', jane],
    ['user with embedded groups and roles', outpost],
    ['user with only required fields', minimalUser],
  ])('%s: wire JSON round-trips through UserFromJSON', (_label, user) => {
    const parsed = UserFromJSON(overTheWire(userWire(user)));
    expect(parsed).toEqual(user);
    expect(instanceOfUser(parsed)).toBe(true);
  });

  it.each([
    ['group', engineering],
    ['group with embedded users, parents, children', backend],
    ['group with only required fields', minimalGroup],
  ])('%s: wire JSON round-trips through GroupFromJSON', (_label, group) => {
    const parsed = GroupFromJSON(overTheWire(groupWire(group)));
    expect(parsed).toEqual(group);
    expect(instanceOfGroup(parsed)).toBe(true);
  });

  it('pages round-trip through PaginatedUserListFromJSON / PaginatedGroupListFromJSON', () => {
    const users = { pagination: paginationWire(lastPage), results: userList.results.map(userWire), autocomplete: {} };
    const groups = { pagination: paginationWire(lastPage), results: groupList.results.map(groupWire), autocomplete: {} };
    expect(PaginatedUserListFromJSON(overTheWire(users))).toEqual(userList);
    expect(PaginatedGroupListFromJSON(overTheWire(groups))).toEqual(groupList);
  });

  it('UserToJSON / GroupToJSON are request bodies: read-only fields are dropped', () => {
    const body = UserToJSON(jane) as unknown as Record<string, unknown>;
    for (const field of ['pk', 'uid', 'avatar', 'uuid']) expect(body).not.toHaveProperty(field);
    expect(userSchema.safeParse(body).success).toBe(false);
    const groupBody = GroupToJSON(engineering) as unknown as Record<string, unknown>;
    for (const field of ['pk', 'num_pk', 'children']) expect(groupBody).not.toHaveProperty(field);
  });
});

describe('our schemas accept the published models', () => {
  it('a full user', () => {
    expect(userSchema.parse(overTheWire(userWire(jane)))).toEqual({
      pk: 42,
      username: 'jdoe',
      name: 'Jane Doe',
      email: 'jane@example.com',
      is_active: true,
      type: 'internal',
      uid: userUid(42),
      avatar: 'https://secure.gravatar.com/avatar/0123abcd',
      path: 'users',
      groups: [engineeringPk, backendPk],
    });
  });

  it('a user with groups_obj and roles_obj embedded', () => {
    const user = userSchema.parse(overTheWire(userWire(outpost)));
    expect(user).toMatchObject({ pk: 7, type: 'internal_service_account', email: '', groups: [engineeringPk] });
    expect(user).not.toHaveProperty('groups_obj');
  });

  it.each(userTypes)('user type %s is kept as sent', type => {
    expect(userSchema.parse(overTheWire(userWire({ ...jane, type }))).type).toBe(type);
  });

  it('a user with only the OpenAPI-required fields plus is_active (defaults filled in)', () => {
    expect(userSchema.parse(overTheWire(userWire({ ...minimalUser, isActive: true })))).toEqual({
      pk: 9,
      username: 'minimal',
      name: '',
      email: '',
      is_active: true,
      type: 'internal',
      uid: userUid(9),
      avatar: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
      groups: [],
    });
  });

  it('is_active is the one OpenAPI-optional field we require: its absence is refused, not guessed', () => {
    const result = userSchema.safeParse(overTheWire(userWire(minimalUser)));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map(issue => issue.path.join('.'))).toEqual(['is_active']);
  });

  it.each([
    ['group', engineering, []],
    ['group with embedded objects', backend, [engineeringPk.replace(/-/g, '')]],
    ['group with only required fields', minimalGroup, []],
  ])('a %s', (_label, group, parents) => {
    const parsed = groupSchema.parse(overTheWire(groupWire(group)));
    expect(parsed.pk).toBe(group.pk);
    expect(parsed.num_pk).toBe(group.numPk);
    expect(parsed.name).toBe(group.name);
    expect(parentPksOf(parsed)).toEqual(parents);
    expect(parsed).not.toHaveProperty('users_obj');
  });

  it('pages of users and groups', () => {
    const users = userPageWireSchema.parse(
      overTheWire({
        pagination: paginationWire(lastPage),
        results: [jane, outpost, { ...minimalUser, isActive: false }].map(userWire),
        autocomplete: {},
      }),
    );
    expect(users.results.map(u => u.pk)).toEqual([42, 7, 9]);
    expect(users.pagination).toEqual(paginationWire(lastPage));
    const groups = groupPageSchema.parse(
      overTheWire({ pagination: paginationWire(lastPage), results: groupList.results.map(groupWire), autocomplete: {} }),
    );
    expect(groups.results.map(g => g.name)).toEqual(['Engineering', 'Backend Team', 'Minimal']);
  });

  it('the parsed values fit the OpenAPI field types (Pick of the published models)', () => {
    const parsed = userSchema.parse(overTheWire(userWire(jane)));
    const asOpenApi: Pick<User, 'pk' | 'username' | 'name' | 'email' | 'isActive' | 'type' | 'uid' | 'avatar' | 'groups' | 'path'> = {
      pk: parsed.pk,
      username: parsed.username,
      name: parsed.name,
      email: parsed.email,
      isActive: parsed.is_active,
      type: parsed.type as UserTypeEnum,
      uid: parsed.uid,
      avatar: parsed.avatar ?? '',
      groups: parsed.groups,
      path: parsed.path ?? undefined,
    };
    expect(asOpenApi).toMatchObject({ pk: jane.pk, username: jane.username, uid: jane.uid, groups: jane.groups });
    const group = groupSchema.parse(overTheWire(groupWire(backend)));
    const groupAsOpenApi: Pick<Group, 'pk' | 'numPk' | 'name' | 'parents' | 'users'> = {
      pk: group.pk,
      numPk: group.num_pk ?? 0,
      name: group.name,
      parents: group.parents ?? undefined,
      users: group.users ?? undefined,
    };
    expect(groupAsOpenApi).toEqual({ pk: backendPk, numPk: 2, name: 'Backend Team', parents: [engineeringPk], users: [42] });
  });

  it('the compile-time checks above hold', () => {
    expect([
      userFieldsExist,
      userFieldsCompatible,
      userStricter,
      groupFieldsExist,
      groupHasNoParent,
      groupHasParents,
      groupFieldsCompatible,
      groupStricter,
      paginationFieldsExist,
      paginationFieldsCompatible,
      paginationSameFields,
    ]).toEqual(Array(11).fill(true));
  });
});

describe('our requests use the parameters the published client documents', () => {
  /** A fetch that records URLs and answers every list with `body`. */
  function recordingFetch(body: unknown) {
    const urls: URL[] = [];
    const headers: Headers[] = [];
    const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
      urls.push(new URL(String(input)));
      headers.push(new Headers(init?.headers));
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch;
    return { urls, headers, fetchImpl };
  }

  const sortedParams = (url: URL) => [...url.searchParams.entries()].sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y));

  const userPageWire = overTheWire({ pagination: paginationWire(lastPage), results: userList.results.map(u => userWire({ ...u, isActive: true })), autocomplete: {} });
  const groupPageWire = overTheWire({ pagination: paginationWire(lastPage), results: groupList.results.map(groupWire), autocomplete: {} });

  it('listUsers: same URL and bearer header as CoreApi.coreUsersList, and both parse the page', async () => {
    const ours = recordingFetch(userPageWire);
    const page = await new AuthentikClient({ baseUrl: BASE_URL, token: 'tok', fetch: ours.fetchImpl }).listUsers({
      page: 2,
      pageSize: 50,
      activeOnly: true,
      types: ['internal', 'external'],
      groupPk: engineeringPk,
    });
    const theirs = recordingFetch(userPageWire);
    const published = await new CoreApi(
      new Configuration({ basePath: `${BASE_URL}/api/v3`, fetchApi: theirs.fetchImpl, accessToken: () => 'tok' }),
    ).coreUsersList({
      ordering: 'pk',
      page: 2,
      pageSize: 50,
      includeGroups: false,
      includeRoles: false,
      isActive: true,
      type: [UserTypeEnum.Internal, UserTypeEnum.External],
      groupsByPk: [engineeringPk],
    });
    expect(ours.urls[0].pathname).toBe(theirs.urls[0].pathname);
    expect(sortedParams(ours.urls[0])).toEqual(sortedParams(theirs.urls[0]));
    expect(ours.headers[0].get('authorization')).toBe(theirs.headers[0].get('authorization'));
    expect(page!.results.map(u => u.pk)).toEqual(published.results.map(u => u.pk));
    expect(page!.results.map(u => u.uid)).toEqual(published.results.map(u => u.uid));
  });

  it('listGroups: the same URL as CoreApi.coreGroupsList, except include_roles, which 2026.8 does not document for groups', async () => {
    const ours = recordingFetch(groupPageWire);
    const page = await new AuthentikClient({ baseUrl: BASE_URL, token: 'tok', fetch: ours.fetchImpl }).listGroups({
      page: 1,
      pageSize: 100,
    });
    const theirs = recordingFetch(groupPageWire);
    const published = await new CoreApi(
      new Configuration({ basePath: `${BASE_URL}/api/v3`, fetchApi: theirs.fetchImpl }),
    ).coreGroupsList({
      ordering: 'pk',
      page: 1,
      pageSize: 100,
      includeUsers: false,
      includeChildren: false,
      includeParents: false,
    });
    expect(ours.urls[0].pathname).toBe(theirs.urls[0].pathname);
    const undocumented = sortedParams(ours.urls[0]).filter(([key]) => !theirs.urls[0].searchParams.has(key));
    expect(undocumented).toEqual([['include_roles', 'false']]);
    expect(sortedParams(ours.urls[0]).filter(([key]) => key !== 'include_roles')).toEqual(sortedParams(theirs.urls[0]));
    expect(page!.results.map(g => [g.pk, g.num_pk, g.name])).toEqual(published.results.map(g => [g.pk, g.numPk, g.name]));
    expect(page!.results.map(g => parentPksOf(g).length)).toEqual(published.results.map(g => (g.parents ?? []).length));
  });
});
