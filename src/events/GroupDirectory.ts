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
 * full once (or handed over by the walk, which reads them all anyway), then kept current one
 * group at a time by the groups the deltas read anyway.
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
  /** When each group was last recorded by `update`: a full read that began earlier is older. */
  private readonly updatedAt = new Map<string, { at: number; group: AuthentikGroup | undefined }>();

  constructor(private readonly options: GroupDirectoryOptions) {}

  /** Whether the directory needs a full read before it can be used. */
  get expired(): boolean {
    return !this.groups || this.options.now() - this.loadedAt >= this.options.ttlMs;
  }

  /** Whether a full read has been recorded yet (by `reload` or `replace`). */
  get loaded(): boolean {
    return this.groups !== undefined;
  }

  /** Reads every group again. `api` counts the requests; returns how many groups it found. */
  async reload(api: AuthentikApi, signal?: AbortSignal): Promise<number> {
    const { pageSize, concurrency } = this.options;
    const startedAt = this.options.now();
    const groups = await readAllGroups(api, { pageSize, concurrency, signal });
    this.replace(groups, startedAt);
    return groups.length;
  }

  /**
   * Every group, as a full read that began at `readStartedAt` saw them (this directory's own
   * reload, or the walk's). Groups recorded by `update` since that read began are newer
   * than it, and are kept as recorded.
   */
  replace(groups: AuthentikGroup[], readStartedAt: number): void {
    const next = new Map(groups.map(group => [normalizeGroupPk(group.pk), withoutMembers(group)]));
    for (const [key, { at, group }] of this.updatedAt) {
      if (at < readStartedAt) {
        this.updatedAt.delete(key);
      } else if (group) {
        next.set(key, group);
      } else {
        next.delete(key);
      }
    }
    this.groups = next;
    this.loadedAt = readStartedAt;
    this.built = undefined;
  }

  has(key: string): boolean {
    return this.groups?.has(key) ?? false;
  }

  /** Records what a targeted read returned: the group as it is now, or `undefined` (gone). */
  update(key: string, group: AuthentikGroup | undefined): void {
    if (!this.groups) throw new Error('GroupDirectory.update before the first reload');
    const kept = group && withoutMembers(group);
    if (kept) this.groups.set(key, kept);
    else this.groups.delete(key);
    this.updatedAt.set(key, { at: this.options.now(), group: kept });
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
