import { GroupEntity } from '@backstage/catalog-model';
import { AuthentikGroup, dashedGroupPk, normalizeGroupPk, parentPksOf } from '../client/schemas';
import { defaultGroupEntity } from './defaultTransformers';
import { claimName, NameCollision } from './nameClaims';
import { sanitizeName, toEntityName } from './names';
import { GroupTransformer, MappingOptions } from './types';

interface EmittedGroup {
  entity: GroupEntity;
  parentKeys: string[];
  rank: number;
}

/**
 * All groups of a directory, mapped: which are emitted and under which entity name, and
 * their Group entities with `parent`/`children` resolved. Built from the complete group
 * list (groups are few; members are not part of it), so both the full walk and webhook
 * deltas resolve names and relations from the same pure function.
 */
export class GroupIndex {
  private constructor(
    private readonly emitted: Map<string, EmittedGroup>,
    readonly collisions: NameCollision[],
    readonly excludedCount: number,
  ) {}

  static async build(
    groups: AuthentikGroup[],
    options: MappingOptions,
    transform?: GroupTransformer,
  ): Promise<GroupIndex> {
    const context = { instanceId: options.instanceId, baseUrl: options.baseUrl };
    const excluded = new Set(options.excludeGroups);
    const ordered = uniqueByPk(groups).sort(compareGroups);
    const claims = new Map<string, string>();
    const collisions: NameCollision[] = [];
    const emitted = new Map<string, EmittedGroup>();
    let excludedCount = 0;

    for (const [rank, group] of ordered.entries()) {
      const key = normalizeGroupPk(group.pk);
      if (excluded.has(sanitizeName(group.name))) {
        excludedCount++;
        continue;
      }
      const suffix = group.num_pk ? String(group.num_pk) : key.slice(0, 8);
      const claim = claimName(claims, toEntityName(group.name, `group-${suffix}`), key, [suffix, key]);
      if (claim.collision) {
        collisions.push({ ...claim.collision, raw: group.name });
      }
      const base = defaultGroupEntity(group, claim.name, context);
      let entity = transform ? await transform(base, group, context) : base;
      if (entity?.metadata.name !== claim.name) {
        // Skipped or renamed by the transformer: its default name is free again, and a new
        // name must not be one another group already holds.
        claims.delete(claim.name);
      }
      if (!entity) {
        excludedCount++;
        continue;
      }
      if (entity.metadata.name !== claim.name) {
        const renamed = claimName(claims, entity.metadata.name, key, [suffix, key]);
        if (renamed.collision) collisions.push({ ...renamed.collision, raw: group.name });
        entity = { ...entity, metadata: { ...entity.metadata, name: renamed.name } };
      }
      emitted.set(key, { entity, parentKeys: parentPksOf(group), rank });
    }
    resolveHierarchy(emitted);
    return new GroupIndex(emitted, collisions, excludedCount);
  }

  /** The entity name of a group, or `undefined` when the group is not emitted. */
  nameOf(groupPk: string): string | undefined {
    return this.emitted.get(normalizeGroupPk(groupPk))?.entity.metadata.name;
  }

  /** The Group entity of a group, or `undefined` when the group is not emitted. */
  entityOf(groupPk: string): GroupEntity | undefined {
    return this.emitted.get(normalizeGroupPk(groupPk))?.entity;
  }

  /** Every emitted Group entity, in a stable order. */
  entities(): GroupEntity[] {
    return [...this.emitted.values()].sort((a, b) => a.rank - b.rank).map(e => e.entity);
  }

  /** Normalised pks of every emitted group. */
  keys(): string[] {
    return [...this.emitted.keys()];
  }

  get size(): number {
    return this.emitted.size;
  }

  /** The entity names of a user's groups: excluded and unknown groups dropped. */
  memberOf(groupPks: string[]): string[] {
    return memberNames(groupPks, pk => this.nameOf(pk));
  }

  /** Just what mapping users needs, without the entities (for the rest of a long walk). */
  namesOnly(): GroupNames {
    return new GroupNames(new Map([...this.emitted].map(([key, node]) => [key, node.entity.metadata.name])));
  }
}

/** What mapping a user needs from the groups: their entity names. */
export interface GroupMemberships {
  memberOf(groupPks: string[]): string[];
}

/** Group pk → entity name, of the emitted groups. */
export class GroupNames implements GroupMemberships {
  /** Also keyed by the dashed pk users list their groups with: no normalising per lookup. */
  private readonly byListedPk: Map<string, string>;

  constructor(names: Map<string, string>) {
    this.byListedPk = new Map(names);
    for (const [key, name] of names) {
      if (UUID_HEX.test(key)) this.byListedPk.set(dashedGroupPk(key), name);
    }
  }

  memberOf(groupPks: string[]): string[] {
    return memberNames(groupPks, pk => this.byListedPk.get(pk) ?? this.byListedPk.get(normalizeGroupPk(pk)));
  }
}

const UUID_HEX = /^[0-9a-f]{32}$/;

/**
 * The distinct names of `groupPks`' groups, sorted. Built in place (an insertion sort): a
 * user is in a few groups, and a walk maps every user; a Set and `sort()` cost more there
 * than the whole entity.
 */
function memberNames(groupPks: string[], nameOf: (pk: string) => string | undefined): string[] {
  const names: string[] = [];
  for (let i = 0; i < groupPks.length; i++) {
    const name = nameOf(groupPks[i]);
    if (!name) continue;
    let at = names.length;
    while (at > 0 && names[at - 1] > name) at--;
    if (at > 0 && names[at - 1] === name) continue;
    for (let j = names.length; j > at; j--) names[j] = names[j - 1];
    names[at] = name;
  }
  return names;
}

/**
 * One `spec.parent` per group (the first emitted parent in pk order, so that a group with
 * several parents gets a deterministic one) and `spec.children` listing every emitted group
 * that names it as a parent. Excluded or skipped groups are never referenced.
 */
function resolveHierarchy(emitted: Map<string, EmittedGroup>): void {
  const children = new Map<string, string[]>();
  for (const [key, node] of emitted) {
    const parents = node.parentKeys
      .filter(parentKey => parentKey !== key && emitted.has(parentKey))
      .map(parentKey => emitted.get(parentKey)!)
      .sort((a, b) => a.rank - b.rank);
    if (parents.length > 0) {
      node.entity.spec.parent = parents[0].entity.metadata.name;
    } else {
      delete node.entity.spec.parent;
    }
    for (const parent of parents) {
      const list = children.get(parent.entity.metadata.name) ?? [];
      list.push(node.entity.metadata.name);
      children.set(parent.entity.metadata.name, list);
    }
  }
  for (const node of emitted.values()) {
    node.entity.spec.children = [...new Set(children.get(node.entity.metadata.name) ?? [])].sort();
  }
}

function uniqueByPk(groups: AuthentikGroup[]): AuthentikGroup[] {
  const byKey = new Map<string, AuthentikGroup>();
  for (const group of groups) byKey.set(normalizeGroupPk(group.pk), group);
  return [...byKey.values()];
}

/** Oldest first (authentik's numeric pk), then UUID: independent of page order. */
function compareGroups(a: AuthentikGroup, b: AuthentikGroup): number {
  const an = a.num_pk ?? Number.MAX_SAFE_INTEGER;
  const bn = b.num_pk ?? Number.MAX_SAFE_INTEGER;
  if (an !== bn) return an - bn;
  const ak = normalizeGroupPk(a.pk);
  const bk = normalizeGroupPk(b.pk);
  return ak < bk ? -1 : ak > bk ? 1 : 0;
}
