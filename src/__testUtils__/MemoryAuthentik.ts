import { randomUUID } from 'node:crypto';
import { AuthentikApi, ListPageRequest, ListUsersRequest } from '../client/AuthentikClient';
import { AuthentikGroup, AuthentikPage, AuthentikUser, normalizeGroupPk } from '../client/schemas';

/** A user as the fake stores it: the API's fields, but its save time as a number. */
export interface MemoryUser extends Pick<AuthentikUser, 'pk' | 'username' | 'name' | 'email' | 'is_active' | 'type'> {
  /** Epoch ms of the last save (see `MemoryAuthentik.save`). */
  last_updated?: number;
}

export interface MemoryGroup {
  pk: string;
  num_pk: number;
  name: string;
  parents: string[];
  users: number[];
}

/**
 * An authentik directory in memory that answers like authentik's API (offset pages ordered
 * by pk, filters, 2025.12 group shape), for tests of the walk and of webhook deltas.
 */
export class MemoryAuthentik implements AuthentikApi {
  readonly users = new Map<number, MemoryUser>();
  readonly groups = new Map<string, MemoryGroup>();
  requests = 0;
  /**
   * authentik 2025.8+: users carry `last_updated` and `last_updated__gt` filters them.
   * False: an older authentik, which sends no `last_updated` and ignores the filter.
   */
  lastUpdated = true;
  /** The clock of `last_updated`. */
  now: () => number = Date.now;
  private nextUserPk = 1;
  private nextGroupPk = 1;

  addUser(partial: Partial<MemoryUser> & { username: string }): MemoryUser {
    const user: MemoryUser = {
      pk: this.nextUserPk++,
      name: partial.username,
      email: `${partial.username}@example.com`,
      is_active: true,
      type: 'internal',
      last_updated: this.now(),
      ...partial,
    };
    this.users.set(user.pk, user);
    return user;
  }

  addGroup(partial: Partial<MemoryGroup> & { name: string }): MemoryGroup {
    const group: MemoryGroup = { pk: randomUUID(), num_pk: this.nextGroupPk++, parents: [], users: [], ...partial };
    this.groups.set(normalizeGroupPk(group.pk), group);
    return group;
  }

  /**
   * Changes a user as a save through authentik's API does: `last_updated` moves. (Tests
   * that edit `users` directly change a user without a save, like a membership change.)
   */
  save(pk: number, patch: Partial<Omit<MemoryUser, 'pk'>> = {}): MemoryUser {
    const user = this.users.get(pk);
    if (!user) throw new Error(`no user ${pk}`);
    Object.assign(user, patch, { last_updated: Math.max(this.now(), user.last_updated ?? 0) });
    return user;
  }

  group(pk: string): MemoryGroup | undefined {
    return this.groups.get(normalizeGroupPk(pk));
  }

  deleteUser(pk: number): void {
    this.users.delete(pk);
    for (const group of this.groups.values()) group.users = group.users.filter(u => u !== pk);
  }

  deleteGroup(pk: string): void {
    const key = normalizeGroupPk(pk);
    this.groups.delete(key);
    for (const group of this.groups.values()) group.parents = group.parents.filter(p => normalizeGroupPk(p) !== key);
  }

  async listUsers(request: ListUsersRequest): Promise<AuthentikPage<AuthentikUser> | undefined> {
    this.requests++;
    const groupKey = request.groupPk ? normalizeGroupPk(request.groupPk) : undefined;
    const after = this.lastUpdated && request.lastUpdatedAfter !== undefined ? new Date(request.lastUpdatedAfter).getTime() : undefined;
    const all = [...this.users.values()]
      .filter(u => after === undefined || (u.last_updated ?? 0) > after)
      .filter(u => !request.activeOnly || u.is_active)
      .filter(u => !request.types || request.types.includes(u.type))
      .filter(u => !groupKey || this.groups.get(groupKey)?.users.includes(u.pk))
      .sort((a, b) => a.pk - b.pk);
    // Only the page's users are serialised (a 20,000-user directory stays quick to list).
    const page = paginate(all, request);
    if (!page) return undefined;
    const groupsOf = this.groupsOfUsers(new Set(page.results.map(u => u.pk)));
    return { ...page, results: page.results.map(u => this.toApiUser(u, groupsOf.get(u.pk) ?? [])) };
  }

  async listGroups(request: ListPageRequest): Promise<AuthentikPage<AuthentikGroup> | undefined> {
    this.requests++;
    const all = [...this.groups.values()]
      .sort((a, b) => (normalizeGroupPk(a.pk) < normalizeGroupPk(b.pk) ? -1 : 1))
      .map(g => this.toApiGroup(g));
    return paginate(all, request);
  }

  async getUser(pk: string): Promise<AuthentikUser | undefined> {
    this.requests++;
    const user = this.users.get(Number(pk));
    return user && this.toApiUser(user, this.groupsOfUsers(new Set([user.pk])).get(user.pk) ?? []);
  }

  async getGroup(pk: string): Promise<AuthentikGroup | undefined> {
    this.requests++;
    const group = this.groups.get(normalizeGroupPk(pk));
    return group && this.toApiGroup(group);
  }

  /** Group pks of each of these users, in group order: one pass over the memberships. */
  private groupsOfUsers(pks: ReadonlySet<number>): Map<number, string[]> {
    const groupsOf = new Map<number, string[]>();
    for (const group of this.groups.values()) {
      for (const pk of group.users) {
        if (!pks.has(pk)) continue;
        const list = groupsOf.get(pk) ?? [];
        if (!list.includes(group.pk)) list.push(group.pk);
        groupsOf.set(pk, list);
      }
    }
    return groupsOf;
  }

  private toApiUser({ last_updated, ...user }: MemoryUser, groups: string[]): AuthentikUser {
    return {
      ...user,
      ...(this.lastUpdated && last_updated !== undefined ? { last_updated: new Date(last_updated).toISOString() } : {}),
      uid: `uid-${user.pk}`,
      avatar: null,
      path: 'users',
      groups,
    };
  }

  private toApiGroup(group: MemoryGroup): AuthentikGroup {
    return { pk: group.pk, num_pk: group.num_pk, name: group.name, parents: [...group.parents], users: [...group.users] };
  }
}

function paginate<T>(all: T[], request: ListPageRequest): AuthentikPage<T> | undefined {
  const size = Math.min(request.pageSize, 100);
  const totalPages = Math.max(1, Math.ceil(all.length / size));
  if (request.page > totalPages) return undefined;
  const start = (request.page - 1) * size;
  const results = all.slice(start, start + size);
  return {
    pagination: {
      next: request.page < totalPages ? request.page + 1 : 0,
      previous: request.page > 1 ? request.page - 1 : 0,
      count: all.length,
      current: request.page,
      total_pages: totalPages,
      start_index: results.length ? start + 1 : 0,
      end_index: start + results.length,
    },
    results,
  };
}
