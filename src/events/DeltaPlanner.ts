import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikUser, dashedGroupPk, normalizeGroupPk } from '../client/schemas';
import { readAllGroups } from '../incremental/readAllGroups';
import { readUserWindow } from '../incremental/readUserWindow';
import { GroupIndex } from '../mapping/groupIndex';
import { disambiguatedName, toEntityName } from '../mapping/names';
import { MappingOptions, Transformers } from '../mapping/types';
import { eligibleUserTypes, isEligibleUser, mapUser, userBaseName, userNameSuffixes } from '../mapping/userMapping';
import { mapConcurrent } from '../util/mapConcurrent';
import { CatalogView, KnownEntity } from './CatalogView';

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
}

export interface DeltaPlannerOptions {
  api: AuthentikApi;
  catalog: CatalogView;
  mapping: MappingOptions;
  transformers?: Transformers;
  pageSize: number;
  concurrency: number;
  /** How long a group index read for user-only changes is reused. Default 30 s. */
  groupIndexTtlMs?: number;
  now?: () => number;
}

/**
 * Turns "these authentik objects changed" into the catalog delta that makes the catalog
 * equal to what a full walk would emit now. Events are only hints: every object is read
 * again from authentik, and the catalog supplies the "before" (old names, old members).
 * Mapping goes through the same functions as the full walk.
 */
export class DeltaPlanner {
  private cachedIndex?: { index: GroupIndex; at: number };
  private requests = 0;

  constructor(private readonly options: DeltaPlannerOptions) {}

  async plan(changes: ChangeSet, signal?: AbortSignal): Promise<PlannedDelta> {
    this.requests = 0;
    const added = new Map<string, Entity>();
    const removed = new Map<string, RemovedEntity>();
    const index = await this.groupIndex(changes.groups.size > 0, signal);
    const knownUsers = new Map<string, AuthentikUser | undefined>();
    const affectedUsers = new Set(changes.users);

    if (changes.groups.size > 0) {
      await this.planGroups(changes, index, added, removed, affectedUsers, knownUsers, signal);
    }
    await this.readUsers(affectedUsers, knownUsers, signal);
    await this.planUsers(index, knownUsers, added, removed);

    for (const entity of added.values()) {
      removed.delete(stringifyEntityRef(entity));
    }
    return { added: [...added.values()], removed: [...removed.values()], requests: this.requests };
  }

  /**
   * Groups are few and their names, exclusions and hierarchy depend on each other: emit
   * them all again, remove the ones the catalog has that are no longer emitted, and mark
   * as affected every user who was or is a member of a changed or renamed group.
   */
  private async planGroups(
    changes: ChangeSet,
    index: GroupIndex,
    added: Map<string, Entity>,
    removed: Map<string, RemovedEntity>,
    affectedUsers: Set<string>,
    knownUsers: Map<string, AuthentikUser | undefined>,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const entity of index.entities()) {
      added.set(stringifyEntityRef(entity), entity);
    }
    const staleNames = new Set<string>();
    for (const raw of changes.groupNames ?? []) {
      const name = toEntityName(raw, '');
      if (name && !index.keys().some(key => index.nameOf(key) === name)) staleNames.add(name);
    }
    for (const known of await this.options.catalog.groups()) {
      const key = normalizeGroupPk(known.pk);
      const name = index.nameOf(key);
      if (name !== known.name) {
        // Renamed, deleted, excluded or skipped: the old entity goes, its members follow.
        staleNames.add(known.name);
        removed.set(groupRef(known.name), { kind: 'Group', name: known.name, pk: known.pk });
      }
      if (changes.groups.has(key)) staleNames.add(known.name);
    }
    for (const name of staleNames) {
      for (const user of await this.options.catalog.usersInGroup(name)) affectedUsers.add(user.pk);
    }
    for (const key of changes.groups) {
      if (!index.nameOf(key)) continue;
      for (const user of await this.listMembers(key, signal)) {
        affectedUsers.add(String(user.pk));
        knownUsers.set(String(user.pk), user);
      }
    }
  }

  /**
   * Reads the affected users that are not known yet: one by one when they are few, else by
   * walking the (eligible) user list once, whichever costs fewer requests. A user missing
   * from the eligible list is deleted, inactive or a filtered service account: all three
   * mean "not in the catalog".
   */
  private async readUsers(
    affected: Set<string>,
    known: Map<string, AuthentikUser | undefined>,
    signal?: AbortSignal,
  ): Promise<void> {
    const missing = [...affected].filter(pk => !known.has(pk));
    if (missing.length === 0) return;
    const { pageSize, concurrency, api } = this.options;
    if (missing.length <= FEW_USERS || missing.length <= (await this.estimatedUserPages(signal)) + 1) {
      const users = await Promise.all(
        missing.map(async pk => {
          this.requests++;
          return [pk, await api.getUser(pk, signal)] as const;
        }),
      );
      for (const [pk, user] of users) known.set(pk, user);
      return;
    }
    const wanted = new Set(missing);
    for (const pk of missing) known.set(pk, undefined);
    let page = 1;
    let afterPk = 0;
    let anchorFirstPk: number | undefined;
    let restarts = 0;
    for (;;) {
      const window = await readUserWindow(api, {
        page,
        afterPk,
        pageSize,
        concurrency,
        activeOnly: true,
        types: eligibleUserTypes(this.options.mapping),
        signal,
        anchorFirstPk,
      });
      this.requests += window.requests;
      if (window.shifted) {
        // The list moved under us: read it again from the start (rare, and bounded).
        if (++restarts > 3) throw new Error("authentik's user list kept changing while it was read; will retry");
        [page, afterPk, anchorFirstPk] = [1, 0, undefined];
        continue;
      }
      for (const user of window.users) if (wanted.has(String(user.pk))) known.set(String(user.pk), user);
      if (window.done) return;
      [page, afterPk, anchorFirstPk] = [window.nextPage, window.afterPk, window.lastPageFirstPk];
    }
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
    this.requests++;
    return this.options.api.getUser(pk);
  }

  private async listMembers(groupKey: string, signal?: AbortSignal): Promise<AuthentikUser[]> {
    const members: AuthentikUser[] = [];
    for (let page = 1; ; page++) {
      this.requests++;
      const result = await this.options.api.listUsers({
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

  private async groupIndex(refresh: boolean, signal?: AbortSignal): Promise<GroupIndex> {
    const now = (this.options.now ?? Date.now)();
    const ttl = this.options.groupIndexTtlMs ?? 30_000;
    if (!refresh && this.cachedIndex && now - this.cachedIndex.at < ttl) {
      return this.cachedIndex.index;
    }
    const groups = await readAllGroups(countingApi(this.options.api, () => this.requests++), {
      pageSize: this.options.pageSize,
      concurrency: this.options.concurrency,
      signal,
    });
    const index = await GroupIndex.build(groups, this.options.mapping, this.options.transformers?.group);
    this.cachedIndex = { index, at: now };
    return index;
  }

  private userPages?: { pages: number; at: number };

  /** Pages of the eligible user list, from a one-request probe cached like the groups. */
  private async estimatedUserPages(signal?: AbortSignal): Promise<number> {
    const now = (this.options.now ?? Date.now)();
    if (this.userPages && now - this.userPages.at < (this.options.groupIndexTtlMs ?? 30_000)) {
      return this.userPages.pages;
    }
    this.requests++;
    const probe = await this.options.api.listUsers({
      page: 1,
      pageSize: this.options.pageSize,
      activeOnly: true,
      types: eligibleUserTypes(this.options.mapping),
      signal,
    });
    this.userPages = { pages: probe?.pagination.total_pages ?? 1, at: now };
    return this.userPages.pages;
  }
}

/** Catalog lookups in flight at once while planning users. */
const LOOKUP_CONCURRENCY = 8;

function bindAll(view: CatalogView): CatalogView {
  return {
    groups: () => view.groups(),
    usersInGroup: name => view.usersInGroup(name),
    userByPk: pk => view.userByPk(pk),
    userByName: name => view.userByName(name),
    usersDenied: name => view.usersDenied(name),
  };
}

/** Up to this many users are always read one by one. */
const FEW_USERS = 10;

function countingApi(api: AuthentikApi, count: () => void): AuthentikApi {
  return {
    listUsers: r => (count(), api.listUsers(r)),
    listGroups: r => (count(), api.listGroups(r)),
    getUser: (pk, s) => (count(), api.getUser(pk, s)),
    getGroup: (pk, s) => (count(), api.getGroup(pk, s)),
  };
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
