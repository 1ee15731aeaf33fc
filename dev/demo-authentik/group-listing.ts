import { DemoDirectory } from './directory';
import { HttpError } from './http';
import {
  OrderingTerm,
  SortValue,
  booleanFilter,
  invalidChoice,
  listFilter,
  textFilter,
} from './query';
import { GroupRecord } from './types';
import { Listing, ListFilter, filterBuilder } from './listing';

type Group = Readonly<GroupRecord>;

const ORDERING_FIELDS = ['pk', 'num_pk', 'name', 'is_superuser'];
const DEFAULT_ORDERING: readonly OrderingTerm[] = [{ field: 'name', descending: false }];

/** `GET /core/groups/`: filtered and ordered groups from the live directory. */
export class GroupListing extends Listing<Group> {
  constructor(directory: DemoDirectory) {
    super(directory, {
      orderingFields: ORDERING_FIELDS,
      defaultOrdering: DEFAULT_ORDERING,
      source: directory => ({
        version: () => directory.version,
        all: () => [...directory.groupRecords()],
        isLive: group => directory.groupRecord(group.pk) === group,
        touchedSince: version => directory.groupsTouchedSince(version),
      }),
      sortValue,
      // `pk` is the UUID: its string order is Postgres' uuid order.
      tieBreak: group => group.num_pk,
    });
  }

  protected filterFrom(params: URLSearchParams): ListFilter<Group> {
    const filters = filterBuilder<Group>();
    const add = filters.add;

    const name = textFilter(params, 'name');
    if (name !== undefined) add(`name=${name}`, g => g.name === name);

    const isSuperuser = booleanFilter(params, 'is_superuser');
    if (isSuperuser !== undefined) add(`is_superuser=${isSuperuser}`, g => g.is_superuser === isSuperuser);

    const memberPks = listFilter(params, 'members_by_pk').map(raw => {
      if (!/^\d+$/.test(raw)) throw HttpError.field('members_by_pk', 'Enter a whole number.');
      if (!this.directory.userRecord(Number(raw))) throw invalidChoice('members_by_pk', raw);
      return Number(raw);
    });
    const memberNames = listFilter(params, 'members_by_username').map(username => {
      const user = this.directory.findUserByUsername(username);
      if (!user) throw invalidChoice('members_by_username', username);
      return user.pk;
    });
    for (const [field, pks] of [['members_by_pk', memberPks], ['members_by_username', memberNames]] as const) {
      if (pks.length === 0) continue;
      const groups = new Set<string>();
      for (const pk of pks) for (const groupPk of this.directory.groupsOf(pk)) groups.add(groupPk);
      add(`${field}=${pks.join(',')}`, g => groups.has(g.pk));
    }

    const search = textFilter(params, 'search')?.toLowerCase();
    if (search !== undefined) add(`search=${search}`, g => g.name.toLowerCase().includes(search));

    return filters.build();
  }
}

function sortValue(group: Group, field: string): SortValue {
  switch (field) {
    case 'pk':
      return group.pk;
    case 'num_pk':
      return group.num_pk;
    case 'is_superuser':
      return group.is_superuser;
    default:
      return group.name;
  }
}
