import { DemoDirectory } from './directory';
import { parseUuid } from './ids';
import {
  OrderingTerm,
  SortValue,
  booleanFilter,
  dateTimeFilter,
  invalidChoice,
  listFilter,
  textFilter,
} from './query';
import { HttpError } from './http';
import { USER_TYPES, UserRecord } from './types';
import { Listing, ListFilter, filterBuilder } from './listing';

type User = Readonly<UserRecord>;

const ORDERING_FIELDS = ['pk', 'username', 'name', 'email', 'is_active', 'last_login', 'date_joined', 'last_updated', 'type', 'path', 'uuid'];
const DEFAULT_ORDERING: readonly OrderingTerm[] = [{ field: 'username', descending: false }];

/** `GET /core/users/`: filtered and ordered users from the live directory. */
export class UserListing extends Listing<User> {
  /** `lastUpdated` false: authentik before 2025.8, which has no `last_updated__gt` and ignores it. */
  constructor(
    directory: DemoDirectory,
    private readonly lastUpdated = true,
  ) {
    super(directory, {
      orderingFields: ORDERING_FIELDS,
      defaultOrdering: DEFAULT_ORDERING,
      source: directory => ({
        version: () => directory.version,
        all: () => [...directory.userRecords()],
        isLive: user => directory.userRecord(user.pk) === user,
        touchedSince: version => directory.usersTouchedSince(version),
      }),
      sortValue,
      tieBreak: user => user.pk,
    });
  }

  /** Parses (and validates, as django-filter does) every supported filter. */
  protected filterFrom(params: URLSearchParams): ListFilter<User> {
    const filters = filterBuilder<User>();
    const add = filters.add;

    const isActive = booleanFilter(params, 'is_active');
    if (isActive !== undefined) add(`is_active=${isActive}`, u => u.is_active === isActive);

    const isSuperuser = booleanFilter(params, 'is_superuser');
    if (isSuperuser !== undefined) add(`is_superuser=${isSuperuser}`, u => this.directory.isSuperuser(u.pk) === isSuperuser);

    const types = listFilter(params, 'type');
    for (const type of types) {
      if (!(USER_TYPES as readonly string[]).includes(type)) throw invalidChoice('type', type);
    }
    if (types.length > 0) add(`type=${types.join(',')}`, u => types.includes(u.type));

    for (const field of ['username', 'email', 'path', 'name'] as const) {
      const value = textFilter(params, field);
      if (value !== undefined) add(`${field}=${value}`, u => u[field] === value);
    }

    const pathPrefix = textFilter(params, 'path_startswith');
    if (pathPrefix !== undefined) add(`path_startswith=${pathPrefix}`, u => u.path.startsWith(pathPrefix));

    const uuid = textFilter(params, 'uuid');
    if (uuid !== undefined) {
      const parsed = parseUuid(uuid);
      if (parsed === undefined) throw HttpError.field('uuid', 'Enter a valid UUID.');
      add(`uuid=${parsed}`, u => u.uuid === parsed);
    }

    const groupPks = listFilter(params, 'groups_by_pk').map(raw => this.groupPk(raw));
    const groupNames = listFilter(params, 'groups_by_name').map(name => {
      const group = this.directory.findGroupByName(name);
      if (!group) throw invalidChoice('groups_by_name', name);
      return group.pk;
    });
    for (const [field, pks] of [['groups_by_pk', groupPks], ['groups_by_name', groupNames]] as const) {
      if (pks.length === 0) continue;
      const members = new Set<number>();
      for (const pk of pks) for (const userPk of this.directory.usersOf(pk)) members.add(userPk);
      add(`${field}=${pks.join(',')}`, u => members.has(u.pk));
    }

    for (const field of ['last_updated', 'date_joined'] as const) {
      if (field === 'last_updated' && !this.lastUpdated) continue;
      const after = dateTimeFilter(params, `${field}__gt`);
      if (after !== undefined) add(`${field}__gt=${after}`, u => u[field] > after);
      const before = dateTimeFilter(params, `${field}__lt`);
      if (before !== undefined) add(`${field}__lt=${before}`, u => u[field] < before);
    }

    const search = textFilter(params, 'search')?.toLowerCase();
    if (search !== undefined) {
      add(`search=${search}`, u => [u.username, u.name, u.email].some(v => v.toLowerCase().includes(search)));
    }

    return filters.build();
  }

  private groupPk(raw: string): string {
    const uuid = parseUuid(raw);
    if (uuid === undefined) throw HttpError.field('groups_by_pk', `“${raw}” is not a valid UUID.`);
    if (!this.directory.groupRecord(uuid)) throw invalidChoice('groups_by_pk', raw);
    return uuid;
  }
}

function sortValue(user: User, field: string): SortValue {
  switch (field) {
    case 'pk':
      return user.pk;
    case 'username':
      return user.username;
    case 'name':
      return user.name;
    case 'email':
      return user.email;
    case 'is_active':
      return user.is_active;
    case 'last_login':
      return user.last_login;
    case 'date_joined':
      return user.date_joined;
    case 'last_updated':
      return user.last_updated;
    case 'type':
      return user.type;
    case 'path':
      return user.path;
    default:
      return user.uuid;
  }
}
