import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikGroup, normalizeGroupPk } from '../client/schemas';
import { readAllGroups } from '../readers/readAllGroups';
import { GroupIndex } from '../mapping/groupIndex';
import { MappingOptions, Transformers } from '../mapping/types';

export interface GroupDirectoryOptions {
  mapping: MappingOptions;
  transformers?: Transformers;
  pageSize: number;
  concurrency: number;
  /** How long the directory is trusted before it is read again in full. */
  ttlMs: number;
  now: () => number;
}

/**
 * authentik's groups (without their members) as the webhook path last saw them: read in
 * full once, then kept current one group at a time by the groups the deltas read anyway.
 * Names, exclusions and hierarchy depend on all groups together, so the planner maps them
 * through the same pure `GroupIndex` as the walk, without reading every group per event.
 *
 * What no webhook reports (LDAP sync, blueprints, deliveries to another replica) reaches it
 * through the planner's reconciliation with the catalog, and at the latest after `ttlMs`.
 */
export class GroupDirectory {
  private groups?: Map<string, AuthentikGroup>;
  private loadedAt = 0;
  private built?: GroupIndex;

  constructor(private readonly options: GroupDirectoryOptions) {}

  /** Whether the directory needs a full read before it can be used. */
  get expired(): boolean {
    return !this.groups || this.options.now() - this.loadedAt >= this.options.ttlMs;
  }

  /** Reads every group again. `api` counts the requests; returns how many groups it found. */
  async reload(api: AuthentikApi, signal?: AbortSignal): Promise<number> {
    const { pageSize, concurrency } = this.options;
    const groups = await readAllGroups(api, { pageSize, concurrency, signal });
    this.groups = new Map(groups.map(group => [normalizeGroupPk(group.pk), withoutMembers(group)]));
    this.loadedAt = this.options.now();
    this.built = undefined;
    return groups.length;
  }

  has(key: string): boolean {
    return this.groups?.has(key) ?? false;
  }

  /** Records what a targeted read returned: the group as it is now, or `undefined` (gone). */
  update(key: string, group: AuthentikGroup | undefined): void {
    if (!this.groups) throw new Error('GroupDirectory.update before the first reload');
    if (group) this.groups.set(key, withoutMembers(group));
    else this.groups.delete(key);
    this.built = undefined;
  }

  /** The mapped groups, built again only after a change. */
  async index(): Promise<GroupIndex> {
    if (!this.groups) throw new Error('GroupDirectory.index before the first reload');
    this.built ??= await GroupIndex.build([...this.groups.values()], this.options.mapping, this.options.transformers?.group);
    return this.built;
  }
}

/** Member lists are read when needed; a large group's must not stay in memory. */
function withoutMembers(group: AuthentikGroup): AuthentikGroup {
  return group.users ? { ...group, users: undefined } : group;
}
