import { DemoDirectory } from './directory';
import { HttpError } from './http';
import {
  OrderingTerm,
  SortValue,
  booleanFilter,
  comparatorFor,
  invalidChoice,
  listFilter,
  orderingFrom,
  orderingKey,
  textFilter,
} from './query';
import { GroupRecord } from './types';
import { SortedIndex } from './sorted-index';
import { VersionedCache } from './versioned-cache';

type Group = Readonly<GroupRecord>;

const ORDERING_FIELDS = ['pk', 'num_pk', 'name', 'is_superuser'];
const DEFAULT_ORDERING: readonly OrderingTerm[] = [{ field: 'name', descending: false }];

/** `GET /core/groups/`: filtered and ordered groups from the live directory. */
export class GroupListing {
  private readonly filtered: VersionedCache<readonly Group[]>;
  private readonly orderings = new Map<string, SortedIndex<Group>>();

  constructor(private readonly directory: DemoDirectory) {
    this.filtered = new VersionedCache(() => directory.version);
  }

  list(params: URLSearchParams): readonly Group[] {
    const ordering = orderingFrom(params, ORDERING_FIELDS, DEFAULT_ORDERING);
    const filter = this.filterFrom(params);
    const sortKey = orderingKey(ordering);
    const sorted = this.sortedIndex(sortKey, ordering).get();
    if (filter.key === '') return sorted;
    return this.filtered.get(`${sortKey}|${filter.key}`, () => sorted.filter(filter.accepts));
  }

  private sortedIndex(key: string, ordering: readonly OrderingTerm[]): SortedIndex<Group> {
    let index = this.orderings.get(key);
    if (!index) {
      const directory = this.directory;
      index = new SortedIndex<Group>(
        {
          version: () => directory.version,
          all: () => [...directory.groupRecords()],
          isLive: group => directory.groupRecord(group.pk) === group,
          touchedSince: version => directory.groupsTouchedSince(version),
        },
        // `pk` is the UUID: its string order is Postgres' uuid order.
        comparatorFor<Group>(ordering, sortValue, group => group.num_pk),
      );
      this.orderings.set(key, index);
    }
    return index;
  }

  private filterFrom(params: URLSearchParams): { key: string; accepts: (group: Group) => boolean } {
    const checks: Array<(group: Group) => boolean> = [];
    const keyParts: string[] = [];
    const add = (key: string, check: (group: Group) => boolean) => {
      keyParts.push(key);
      checks.push(check);
    };

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

    return { key: keyParts.join('&'), accepts: group => checks.every(check => check(group)) };
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
