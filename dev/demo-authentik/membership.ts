/**
 * Group membership, stored once as a set of (group, user) links. Both directions are
 * indexes over the same links, updated together by `link`/`unlink` only, so that
 * `user.groups` and `group.users` can never disagree.
 */
export class Membership {
  private readonly usersByGroup = new Map<string, Set<number>>();
  private readonly groupsByUser = new Map<number, Set<string>>();

  link(groupPk: string, userPk: number): boolean {
    const users = setIn(this.usersByGroup, groupPk);
    if (users.has(userPk)) return false;
    users.add(userPk);
    setIn(this.groupsByUser, userPk).add(groupPk);
    return true;
  }

  unlink(groupPk: string, userPk: number): boolean {
    const users = this.usersByGroup.get(groupPk);
    if (!users?.delete(userPk)) return false;
    this.groupsByUser.get(userPk)?.delete(groupPk);
    return true;
  }

  has(groupPk: string, userPk: number): boolean {
    return this.usersByGroup.get(groupPk)?.has(userPk) ?? false;
  }

  /** Group UUIDs of a user, in the order they were linked. */
  groupsOf(userPk: number): ReadonlySet<string> {
    return this.groupsByUser.get(userPk) ?? EMPTY;
  }

  /** User pks of a group, in the order they were linked. */
  usersOf(groupPk: string): ReadonlySet<number> {
    return this.usersByGroup.get(groupPk) ?? EMPTY;
  }

  forgetUser(userPk: number): void {
    for (const groupPk of this.groupsOf(userPk)) this.usersByGroup.get(groupPk)?.delete(userPk);
    this.groupsByUser.delete(userPk);
  }

  forgetGroup(groupPk: string): void {
    for (const userPk of this.usersOf(groupPk)) this.groupsByUser.get(userPk)?.delete(groupPk);
    this.usersByGroup.delete(groupPk);
  }
}

const EMPTY: ReadonlySet<never> = new Set<never>();

function setIn<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set<V>();
    map.set(key, set);
  }
  return set;
}
