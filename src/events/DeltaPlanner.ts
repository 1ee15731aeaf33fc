import { Entity, GroupEntity, stringifyEntityRef } from '@backstage/catalog-model';
import { isDeepStrictEqual } from 'node:util';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikGroup, AuthentikUser, dashedGroupPk, normalizeGroupPk } from '../client/schemas';
import { readRecentUsers } from '../readers/readRecentUsers';
import { readUserWindow } from '../readers/readUserWindow';
import { GroupIndex } from '../mapping/groupIndex';
import { disambiguatedName, toEntityName } from '../mapping/names';
import { renamedMemberships, withMemberships } from '../mapping/memberships';
import { ANNOTATION_USER_PK, MappingOptions, Transformers } from '../mapping/types';
import { eligibleUserTypes, isEligibleUser, mapUser, userBaseName, userNameSuffixes } from '../mapping/userMapping';
import { mapConcurrent } from '../util/mapConcurrent';
import { CatalogView, KnownEntity, KnownGroup } from './CatalogView';
import { GroupDirectory } from './GroupDirectory';
import { readAllGroups } from '../readers/readAllGroups';

/** The objects a batch of webhooks says changed: user pks and normalised group pks. */
export interface ChangeSet {
  users: Set<string>;
  groups: Set<string>;
  /**
   * Names the changed groups had when the events were recorded. A group created and
   * deleted before the catalog ever saw it is known only by this name, which users may
   * already list in `memberOf`.
   */
  groupNames?: Set<string>;
  /** Objects in this set only to confirm an earlier read (`PlannedDelta.confirm`): not confirmed again. */
  confirming?: ObjectKeys;
  /**
   * Epoch ms no later than the oldest change in the set (when its first hint arrived, or
   * its event was recorded). With it, many changed users are read through the list of
   * users saved since then (authentik 2025.8+) instead of one by one or by a full listing.
   */
  since?: number;
}

/** User pks and normalised group pks. */
export interface ObjectKeys {
  users: Set<string>;
  groups: Set<string>;
}

export interface RemovedEntity {
  kind: 'User' | 'Group';
  name: string;
  pk: string;
}

export interface PlannedDelta {
  added: Entity[];
  removed: RemovedEntity[];
  /** authentik API requests the plan cost. */
  requests: number;
  /**
   * Objects to read once more a few seconds from now. authentik records a membership event
   * before it writes the membership, so a read racing that request sees the old members:
   * every changed user (its groups may have been set), and every changed group whose read
   * showed nothing new (a member added or removed may not be written yet).
   */
  confirm: ObjectKeys;
}

export interface DeltaPlannerOptions {
  api: AuthentikApi;
  catalog: CatalogView;
  mapping: MappingOptions;
  transformers?: Transformers;
  pageSize: number;
  /** authentik requests in flight at once (the walk's `incremental.concurrency`). */
  concurrency: number;
  /**
   * How long the group directory is trusted before it is read again in full, in the
   * background (changes that sent no webhook reach it through the catalog, or at the latest
   * then). The walk hands over every group it reads (`seedGroups`), which starts this again.
   * Default 10 min.
   */
  groupIndexTtlMs?: number;
  now?: () => number;
}

/**
 * Turns "these authentik objects changed" into the catalog delta that makes the catalog
 * equal to what a full walk would emit now. Events are only hints: every changed object is
 * read again from authentik, and the catalog supplies the "before" (old names, old
 * members). Mapping goes through the same functions as the full walk.
 *
 * A plan costs what changed, not the directory's size: the groups' names and hierarchy
 * come from a `GroupDirectory` kept current by the targeted reads themselves; a group's
 * member diff is its member pks (one read) against the catalog's members; only users whose
 * entity changes are read.
 */
export class DeltaPlanner {
  private readonly directory: GroupDirectory;
  private readonly api: AuthentikApi;
  private requests = 0;
  private userPages?: { pages: number; at: number };
  /** authentik ignored `last_updated__gt` once (before 2025.8): it is not asked again. */
  private recentListUnsupported = false;
  /** Plans run one at a time (webhooks and any other caller): each sees the directory whole. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The background read of every group, while one runs (see `refreshDirectory`). */
  private refreshing?: Promise<void>;

  constructor(private readonly options: DeltaPlannerOptions) {
    this.api = countingApi(options.api, () => this.requests++);
    this.directory = new GroupDirectory({
      mapping: options.mapping,
      transformers: options.transformers,
      pageSize: options.pageSize,
      concurrency: options.concurrency,
      ttlMs: this.ttlMs,
      now: this.now,
    });
  }

  plan(changes: ChangeSet, signal?: AbortSignal): Promise<PlannedDelta> {
    const planned = this.queue.then(() => this.planNow(changes, signal));
    this.queue = planned.catch(() => undefined);
    return planned;
  }

  private async planNow(changes: ChangeSet, signal?: AbortSignal): Promise<PlannedDelta> {
    this.requests = 0;
    const added = new Map<string, Entity>();
    const removed = new Map<string, RemovedEntity>();
    const known = new Map<string, AuthentikUser | undefined>();
    const confirm: ObjectKeys = { users: new Set(), groups: new Set() };
    const confirming = changes.confirming ?? { users: new Set(), groups: new Set() };

    if (!this.directory.loaded) await this.directory.reload(this.api, signal);
    else if (this.directory.expired) this.refreshDirectory(signal);
    const before = await this.directory.index();
    const changedGroups = new Set([...changes.groups].map(normalizeGroupPk));
    const read = await this.readGroups([...changedGroups], signal);
    await this.readUsers(changes.users, known, signal, changes.since);
    for (const pk of changes.users) {
      if (known.get(pk) && !confirming.users.has(pk)) confirm.users.add(pk);
    }
    // A user in a group this directory has not seen yet (its event is late, or there was
    // none): read that group too, so the user's memberOf is complete.
    const unseen = new Set<string>();
    for (const user of known.values()) {
      for (const pk of user?.groups ?? []) {
        const key = normalizeGroupPk(pk);
        if (!this.directory.has(key) && !read.has(key)) unseen.add(key);
      }
    }
    for (const [key, group] of await this.readGroups([...unseen], signal)) read.set(key, group);

    const affected = new Set<string>();
    const rebuilt = new Map<string, Entity>();
    if (read.size > 0 || (changes.groupNames?.size ?? 0) > 0) {
      const unexplained = await this.planGroups(changes, read, before, added, removed, affected, known, rebuilt, signal);
      for (const key of unexplained) {
        if (changedGroups.has(key) && !confirming.groups.has(key)) confirm.groups.add(key);
      }
    }
    await this.readUsers(affected, known, signal);
    await this.planUsers(await this.directory.index(), known, added, removed);
    // Members whose only change is a renamed or deleted group, unless they were read anyway.
    for (const [pk, entity] of rebuilt) {
      if (!known.has(pk)) added.set(stringifyEntityRef(entity), entity);
    }

    for (const entity of added.values()) {
      removed.delete(stringifyEntityRef(entity));
    }
    return { added: [...added.values()], removed: [...removed.values()], requests: this.requests, confirm };
  }

  /**
   * Every group as a full read that began at `readStartedAt` saw them (the walk's): the
   * directory starts over from them, and no plan pays for reading them again.
   */
  seedGroups(groups: AuthentikGroup[], readStartedAt: number): void {
    if (groups.length === 0) return; // an empty list never replaces what is known
    this.inQueue(() => this.directory.replace(groups, readStartedAt));
  }

  /** The number of pages of the eligible user list, as the walk just saw it. */
  seedUserPages(pages: number): void {
    this.userPages = { pages: Math.max(1, pages), at: this.now() };
  }

  /**
   * Reads every group again without holding up the plan that found the directory expired
   * (it plans with the directory as it is, which deltas and the catalog keep current). The
   * result replaces the directory between two plans; an empty list is ignored. It stops with
   * the plan that started it (shutdown).
   */
  private refreshDirectory(signal?: AbortSignal): void {
    if (this.refreshing) return;
    const startedAt = this.now();
    const { pageSize, concurrency } = this.options;
    this.refreshing = readAllGroups(this.options.api, { pageSize, concurrency, signal })
      .then(groups => this.seedGroups(groups, startedAt))
      .catch(() => undefined) // the next expired plan tries again
      .finally(() => (this.refreshing = undefined));
  }

  private inQueue(task: () => void): void {
    this.queue = this.queue.then(task).catch(() => undefined);
  }

  /** Targeted reads of groups, `concurrency` at a time, recorded in the directory. */
  private async readGroups(keys: string[], signal?: AbortSignal): Promise<Map<string, AuthentikGroup | undefined>> {
    const groups = await mapConcurrent(keys, this.options.concurrency, async key => [key, await this.api.getGroup(key, signal)] as const);
    for (const [key, group] of groups) this.directory.update(key, group);
    return new Map(groups);
  }

  /**
   * Groups' names, exclusions and hierarchy depend on each other, so the changed groups go
   * through the whole (cached) index; the groups read, and those the catalog holds with
   * another name or relations, are emitted; the catalog's groups that are no longer
   * emitted under their name are removed.
   * Users affected: every member of a group whose name changed or went, and for the
   * changed groups the members who joined or left (their member pks against the catalog's).
   * With the default user transformer, the members of a renamed or deleted group are not
   * read: only their `memberOf` changes, so their catalog entities are rebuilt with it
   * (`rebuilt`), at no authentik request however large the group.
   * Returns the changed groups whose read showed nothing new.
   */
  private async planGroups(
    changes: ChangeSet,
    read: Map<string, AuthentikGroup | undefined>,
    before: GroupIndex,
    added: Map<string, Entity>,
    removed: Map<string, RemovedEntity>,
    affected: Set<string>,
    known: Map<string, AuthentikUser | undefined>,
    rebuilt: Map<string, Entity>,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const { catalog } = this.options;
    const catalogGroups = (await catalog.groups()).map(group => ({ ...group, key: normalizeGroupPk(group.pk) }));
    await this.reconcile(catalogGroups, read, before, signal);
    const after = await this.directory.index();
    const inCatalog = new Map(catalogGroups.map(group => [group.key, group]));
    const catalogName = (key: string) => inCatalog.get(key)?.name;

    // The groups read are emitted; any other whose name or relations the catalog holds
    // differently (a neighbour of a renamed, moved or deleted group) too.
    const differs = new Set<string>();
    for (const key of after.keys()) {
      const entity = after.entityOf(key)!;
      const held = inCatalog.get(key);
      const same = held && held.name === entity.metadata.name && sameRelations(held, entity);
      if (!same) differs.add(key);
      if (!same || read.has(key)) added.set(stringifyEntityRef(entity), entity);
    }
    const emittedNames = new Set(after.keys().map(key => after.nameOf(key)));
    const staleNames = new Map<string, string | undefined>();
    for (const raw of changes.groupNames ?? []) {
      const name = toEntityName(raw, '');
      if (name && !emittedNames.has(name)) staleNames.set(name, undefined);
    }
    for (const group of catalogGroups) {
      if (after.nameOf(group.key) === group.name) continue;
      // Renamed, deleted, excluded or skipped: the old entity goes, its members follow.
      removed.set(groupRef(group.name), { kind: 'Group', name: group.name, pk: group.pk });
      staleNames.set(group.name, after.nameOf(group.key) ? group.key : undefined);
    }
    const keyOfName = new Map(catalogGroups.map(group => [group.name, group.key]));
    const nameNow = (name: string): string | null | undefined => {
      const key = keyOfName.get(name);
      if (key) return after.nameOf(key) ?? null;
      // A group created and deleted before the catalog held it: gone. Anything else: unknown.
      return staleNames.has(name) && staleNames.get(name) === undefined ? null : undefined;
    };
    for (const [name, renamedKey] of staleNames) {
      if (!this.options.transformers?.user) {
        for (const entity of await catalog.memberEntities(name)) {
          const pk = entity.metadata.annotations?.[ANNOTATION_USER_PK];
          if (!pk) continue;
          const memberOf = renamedMemberships(entity, nameNow);
          const user = memberOf && withMemberships(entity, memberOf);
          if (user) rebuilt.set(pk, user);
          else affected.add(pk);
        }
        continue;
      }
      const members = (await catalog.usersInGroup(name)).map(user => user.pk);
      for (const pk of members) affected.add(pk);
      // A renamed group's members: its member list costs a request per page, not per user.
      const unread = members.filter(pk => !known.has(pk)).length;
      if (renamedKey && Math.ceil(unread / this.options.pageSize) < unread) {
        for (const user of await this.listMembers(renamedKey, signal)) known.set(String(user.pk), user);
      }
    }

    const unexplained: string[] = [];
    for (const [key, group] of read) {
      const name = after.nameOf(key);
      if (!group || !name) continue;
      const before = new Set((await catalog.usersInGroup(catalogName(key) ?? name)).map(user => user.pk));
      const now = new Set((group.users ?? []).map(String));
      const left = [...before].filter(pk => !now.has(pk));
      // Members the catalog does not hold are ineligible, or new users whose own event
      // will map them: only those it holds under other groups have joined.
      const joined = await catalog.usersWithPks([...now].filter(pk => !before.has(pk)));
      for (const pk of left) affected.add(pk);
      for (const user of joined) affected.add(user.pk);
      if (left.length === 0 && joined.length === 0 && !differs.has(key)) unexplained.push(key);
    }
    return unexplained;
  }

  /**
   * The catalog holds groups under names this directory did not expect: renamed or deleted
   * without a webhook here (another replica's delivery, an LDAP sync repaired by a walk).
   * Read those again, one by one when they are few, else the whole list; a list that comes
   * back empty while the catalog holds groups is never a reason to remove them.
   */
  private async reconcile(
    catalogGroups: Array<{ key: string; name: string }>,
    read: Map<string, AuthentikGroup | undefined>,
    before: GroupIndex,
    signal?: AbortSignal,
  ): Promise<void> {
    const suspects = catalogGroups.filter(group => !read.has(group.key) && before.nameOf(group.key) !== group.name);
    if (suspects.length === 0) return;
    if (suspects.length <= FEW_GROUPS) {
      await this.readGroups(
        suspects.map(group => group.key),
        signal,
      );
      return;
    }
    const found = await this.directory.reload(this.api, signal);
    if (found === 0) {
      throw new Error(`authentik listed no groups while the catalog holds ${catalogGroups.length}; nothing was removed`);
    }
    for (const [key, group] of read) this.directory.update(key, group);
  }

  /**
   * Reads the affected users that are not known yet. Many users changed `since` a time are
   * first looked for in the list of users saved since then (see `readRecentUsers`); the
   * rest: one by one (`concurrency` at a time) when they are few, else by walking the
   * (eligible) user list once, whichever costs fewer requests. A user missing from a
   * non-empty eligible list is deleted, inactive or a filtered service account: all three
   * mean "not in the catalog". An empty list proves nothing, so then the users are read one
   * by one.
   */
  private async readUsers(
    affected: Set<string>,
    known: Map<string, AuthentikUser | undefined>,
    signal?: AbortSignal,
    since?: number,
  ): Promise<void> {
    let missing = [...affected].filter(pk => !known.has(pk));
    if (missing.length === 0) return;
    if (since !== undefined && missing.length > FEW_USERS && !this.recentListUnsupported) {
      await this.readRecentUsers(missing, since, known, signal);
      missing = missing.filter(pk => !known.has(pk));
      if (missing.length === 0) return;
    }
    if (missing.length > FEW_USERS && missing.length > (await this.estimatedUserPages(signal)) + 1) {
      if (await this.readUsersByListing(missing, known, signal)) return;
    }
    const users = await mapConcurrent(missing, this.options.concurrency, async pk => [pk, await this.api.getUser(pk, signal)] as const);
    for (const [pk, user] of users) known.set(pk, user);
  }

  /**
   * Records the `wanted` users found in the list of users saved since `since` (less
   * `RECENT_MARGIN_MS`). Users not found are left unknown, never taken as gone. The list is
   * read past its first page only when that costs fewer requests than reading the users
   * still missing otherwise; a server that ignores the filter is noticed on the first page
   * and not asked again.
   */
  private async readRecentUsers(
    wanted: string[],
    since: number,
    known: Map<string, AuthentikUser | undefined>,
    signal?: AbortSignal,
  ): Promise<void> {
    const recent = await readRecentUsers(this.api, {
      after: since - RECENT_MARGIN_MS,
      wanted: new Set(wanted),
      pageSize: this.options.pageSize,
      concurrency: this.options.concurrency,
      signal,
      worthReading: async (pages, missing) => {
        if (pages >= missing) return false; // one request per missing user is no dearer
        if (missing <= FEW_USERS) return true;
        return pages <= (await this.estimatedUserPages(signal)); // else the full listing
      },
    });
    if (!recent.filtered) this.recentListUnsupported = true;
    for (const [pk, user] of recent.found) known.set(pk, user);
  }

  /** Walks the eligible user list for `wanted`; false (nothing recorded) when it is empty. */
  private async readUsersByListing(
    wanted: string[],
    known: Map<string, AuthentikUser | undefined>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const { pageSize, concurrency } = this.options;
    const pending = new Set(wanted);
    const found = new Map<string, AuthentikUser>();
    let page = 1;
    let afterPk = 0;
    let anchorFirstPk: number | undefined;
    let restarts = 0;
    for (;;) {
      const window = await readUserWindow(this.api, {
        page,
        afterPk,
        pageSize,
        concurrency,
        activeOnly: true,
        types: eligibleUserTypes(this.options.mapping),
        signal,
        anchorFirstPk,
      });
      if (window.shifted) {
        // The list moved under us: read it again from the start (rare, and bounded).
        if (++restarts > 3) throw new Error("authentik's user list kept changing while it was read; will retry");
        [page, afterPk, anchorFirstPk] = [1, 0, undefined];
        continue;
      }
      if (page === 1 && window.count === 0) return false;
      for (const user of window.users) if (pending.has(String(user.pk))) found.set(String(user.pk), user);
      if (window.done) break;
      [page, afterPk, anchorFirstPk] = [window.nextPage, window.afterPk, window.lastPageFirstPk];
    }
    for (const pk of wanted) known.set(pk, found.get(pk));
    return true;
  }

  private async planUsers(
    index: GroupIndex,
    users: Map<string, AuthentikUser | undefined>,
    added: Map<string, Entity>,
    removed: Map<string, RemovedEntity>,
  ): Promise<void> {
    const { mapping, transformers } = this.options;
    const claims = new Map<string, string>();
    const released = new Set<string>();
    const queue = [...users.keys()].sort(byNumber);
    const done = new Set<string>();
    // The loop below decides names one user at a time; its catalog lookups do not depend on
    // each other, so ask them all up front, several at once.
    const catalog = await this.prefetchedCatalog(queue, [...users.values()]);
    while (queue.length > 0) {
      const pk = queue.shift()!;
      if (done.has(pk)) continue;
      done.add(pk);
      const user = users.get(pk);
      const before = await catalog.userByPk(pk);
      let entity: Entity | undefined;
      if (user && isEligibleUser(user, mapping)) {
        const { name, displaced } = await this.claimUserName(user, claims, released, catalog);
        if (displaced && !done.has(displaced)) {
          // An older user took back its name from a newer one: rename the newer one too.
          users.set(displaced, await this.readUser(displaced));
          queue.push(displaced);
          queue.sort(byNumber);
        }
        entity = await mapUser(user, name, index, mapping, transformers?.user);
      }
      if (entity) added.set(stringifyEntityRef(entity), entity);
      if (before && before.name !== entity?.metadata.name) {
        removed.set(userRef(before.name), { kind: 'User', name: before.name, pk });
        if (!claims.has(before.name)) {
          // The name is free again: the oldest user it was denied to gets it, as in a walk.
          released.add(before.name);
          for (const denied of await catalog.usersDenied(before.name)) {
            if (done.has(denied.pk) || users.has(denied.pk)) continue;
            users.set(denied.pk, await this.readUser(denied.pk));
            queue.push(denied.pk);
          }
          queue.sort(byNumber);
        }
      }
    }
  }

  /**
   * The full walk's rule, from the catalog's point of view: the oldest user (lowest pk)
   * whose name sanitises to a base name holds it; others get `<base>-<pk>`.
   */
  private async claimUserName(
    user: AuthentikUser,
    claims: Map<string, string>,
    released: Set<string>,
    catalog: CatalogView,
  ): Promise<{ name: string; displaced?: string }> {
    const pk = String(user.pk);
    const base = userBaseName(user);
    const holder = claims.get(base) ?? (released.has(base) ? undefined : (await catalog.userByName(base))?.pk);
    if (holder === undefined || holder === pk || Number(holder) > Number(pk)) {
      claims.set(base, pk);
      const displaced = holder !== undefined && holder !== pk ? holder : undefined;
      return { name: base, displaced };
    }
    for (const suffix of userNameSuffixes(user)) {
      const candidate = disambiguatedName(base, suffix);
      const other: KnownEntity | undefined = claims.has(candidate)
        ? { name: candidate, pk: claims.get(candidate)! }
        : await catalog.userByName(candidate);
      if (!other || other.pk === pk) {
        claims.set(candidate, pk);
        return { name: candidate };
      }
    }
    throw new Error(`No free entity name for authentik user ${pk}`);
  }

  /**
   * The catalog view with the "before" of these users and the holders of their base names
   * already looked up (concurrently); anything else falls through to the catalog.
   */
  private async prefetchedCatalog(pks: string[], users: Array<AuthentikUser | undefined>): Promise<CatalogView> {
    const { catalog } = this.options;
    const byPk = new Map(await mapConcurrent(pks, LOOKUP_CONCURRENCY, async pk => [pk, await catalog.userByPk(pk)] as const));
    const bases = [...new Set(users.flatMap(user => (user ? [userBaseName(user)] : [])))];
    const byName = new Map(
      await mapConcurrent(bases, LOOKUP_CONCURRENCY, async name => [name, await catalog.userByName(name)] as const),
    );
    return {
      ...bindAll(catalog),
      userByPk: async pk => (byPk.has(pk) ? byPk.get(pk) : catalog.userByPk(pk)),
      userByName: async name => (byName.has(name) ? byName.get(name) : catalog.userByName(name)),
    };
  }

  private async readUser(pk: string): Promise<AuthentikUser | undefined> {
    return this.api.getUser(pk);
  }

  /** The eligible members of a group, page by page (`groups_by_pk`). */
  private async listMembers(groupKey: string, signal?: AbortSignal): Promise<AuthentikUser[]> {
    const members: AuthentikUser[] = [];
    for (let page = 1; ; page++) {
      const result = await this.api.listUsers({
        page,
        pageSize: this.options.pageSize,
        groupPk: dashedGroupPk(groupKey),
        activeOnly: true,
        types: eligibleUserTypes(this.options.mapping),
        signal,
      });
      members.push(...(result?.results ?? []));
      if (!result || result.pagination.next === 0) return members;
    }
  }

  /** Pages of the eligible user list, from a one-request probe cached like the groups. */
  private async estimatedUserPages(signal?: AbortSignal): Promise<number> {
    const now = this.now();
    if (this.userPages && now - this.userPages.at < this.ttlMs) {
      return this.userPages.pages;
    }
    const probe = await this.api.listUsers({
      page: 1,
      pageSize: this.options.pageSize,
      activeOnly: true,
      types: eligibleUserTypes(this.options.mapping),
      signal,
    });
    this.userPages = { pages: probe?.pagination.total_pages ?? 1, at: now };
    return this.userPages.pages;
  }

  private get ttlMs(): number {
    return this.options.groupIndexTtlMs ?? 10 * 60_000;
  }

  private readonly now = () => (this.options.now ?? Date.now)();
}

/** Catalog lookups in flight at once while planning users. */
const LOOKUP_CONCURRENCY = 8;

function bindAll(view: CatalogView): CatalogView {
  return {
    groups: () => view.groups(),
    usersInGroup: name => view.usersInGroup(name),
    memberEntities: name => view.memberEntities(name),
    userByPk: pk => view.userByPk(pk),
    usersWithPks: pks => view.usersWithPks(pks),
    userByName: name => view.userByName(name),
    usersDenied: name => view.usersDenied(name),
  };
}

/** Up to this many users are always read one by one. */
const FEW_USERS = 10;

/**
 * How long before `ChangeSet.since` the list of recently saved users starts: covers the
 * time from a save to its hint (delivery, coalescing) and clocks apart between authentik
 * and this backend. Anything later still is read another way, never lost.
 */
export const RECENT_MARGIN_MS = 2 * 60_000;

/** Up to this many groups the catalog disagrees on are read one by one, more as a list. */
const FEW_GROUPS = 10;

function countingApi(api: AuthentikApi, count: () => void): AuthentikApi {
  return {
    listUsers: r => (count(), api.listUsers(r)),
    listGroups: r => (count(), api.listGroups(r)),
    getUser: (pk, s) => (count(), api.getUser(pk, s)),
    getGroup: (pk, s) => (count(), api.getGroup(pk, s)),
  };
}

/** Whether the catalog's group has the name's relations the index gives it now. */
function sameRelations(held: KnownGroup, entity: GroupEntity): boolean {
  return held.parent === entity.spec.parent && isDeepStrictEqual(held.children, entity.spec.children ?? []);
}

function byNumber(a: string, b: string): number {
  return Number(a) - Number(b);
}

function userRef(name: string): string {
  return stringifyEntityRef({ kind: 'User', namespace: 'default', name });
}

function groupRef(name: string): string {
  return stringifyEntityRef({ kind: 'Group', namespace: 'default', name });
}
