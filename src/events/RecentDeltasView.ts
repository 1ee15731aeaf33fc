import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { ANNOTATION_GROUP_PK, ANNOTATION_NAME_TAKEN, ANNOTATION_USER_PK } from '../mapping/types';
import { CatalogView, KnownEntity, KnownGroup, relationsOf } from './CatalogView';

interface Recent {
  /** The entity as last emitted, or null when it was last removed. */
  entity: Entity | null;
  kind: 'User' | 'Group';
  name: string;
  pk: string;
  at: number;
  /** What this view compares of the entity (`fingerprint`). */
  fingerprint: string;
  /**
   * What the catalog may still show at the ref without having moved past this delta: what it
   * held when the delta was recorded, and the older deltas of this process it replaced.
   */
  notNewer: Set<string>;
  /** Whether the catalog's state when the delta was recorded is in `notNewer`. */
  baselineKnown: boolean;
}

/** The catalog's current entities at these refs (undefined where it holds none). */
export type CatalogLookup = (refs: string[]) => Promise<Array<Entity | undefined>>;

export interface RecentDeltasViewOptions {
  /**
   * Where a delta is checked against the catalog: it is forgotten once the catalog shows it.
   * Without one, a delta is forgotten `maxAgeMs` (then default 2 min) after it was applied,
   * processed or not.
   */
  lookup?: CatalogLookup;
  /** A delta younger than this is not looked for in the catalog yet. Default 10 s. */
  settleAfterMs?: number;
  /**
   * A delta the catalog never shows (an entity conflict, a processor that rewrites it, a
   * newer change applied by another replica) is forgotten after this. Default 15 min.
   */
  maxAgeMs?: number;
  /** At most one catalog check per this interval. Default 5 s. */
  checkEveryMs?: number;
  now?: () => number;
}

/** Refs per catalog lookup. */
const REFS_PER_LOOKUP = 500;

/**
 * The catalog processes a delta seconds to minutes after it is applied (a renamed group with
 * thousands of members: minutes), so an event right after a first one would read a stale
 * "before" and plan the first change again. This view lays the deltas this process applied
 * over the catalog's answers until the catalog shows them (checked in the background, see
 * `RecentDeltasViewOptions`), or at the latest `maxAgeMs`.
 */
export class RecentDeltasView implements CatalogView {
  private readonly users = new Map<string, Recent>();
  private readonly groupsByPk = new Map<string, Recent>();
  private readonly settleAfterMs: number;
  private readonly maxAgeMs: number;
  private readonly checkEveryMs: number;
  private readonly now: () => number;
  private lastCheck = Number.NEGATIVE_INFINITY;
  private checking?: Promise<void>;

  constructor(
    private readonly base: CatalogView,
    private readonly options: RecentDeltasViewOptions = {},
  ) {
    this.settleAfterMs = options.settleAfterMs ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? (options.lookup ? 15 * 60_000 : 120_000);
    this.checkEveryMs = options.checkEveryMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Remembers a delta that is about to be handed to the engine, and (in the background) what
   * the catalog holds at its refs before it: a catalog that moves on from that to anything
   * but this delta has processed a newer change (another replica's, a walk's).
   */
  record(added: Entity[], removed: Array<{ kind: string; name: string; pk: string }>): void {
    const at = this.now();
    const recorded: Recent[] = [];
    const remember = (kind: 'User' | 'Group', pk: string, name: string, entity: Entity | null) => {
      const map = this.mapFor(kind);
      const older = map.get(pk);
      const notNewer = new Set(older ? [older.fingerprint, ...older.notNewer] : []);
      const recent: Recent = { entity, kind, name, pk, at, fingerprint: fingerprint(entity, pk), notNewer, baselineKnown: false };
      map.set(pk, recent);
      recorded.push(recent);
    };
    for (const entry of removed) {
      const kind = kindOf(entry.kind);
      if (kind) remember(kind, entry.pk, entry.name, null);
    }
    for (const entity of added) {
      const pk = pkOf(entity);
      const kind = kindOf(entity.kind);
      if (pk && kind) remember(kind, pk, entity.metadata.name, entity);
    }
    const { lookup } = this.options;
    if (lookup && recorded.length > 0) {
      this.lookUp(recorded, lookup, (recent, held) => {
        recent.notNewer.add(fingerprint(held ?? null, recent.pk));
        recent.baselineKnown = true;
      }).catch(() => undefined); // without a baseline, only the delta itself settles it
    }
  }

  /** Deltas not yet seen in the catalog (for logs and tests). */
  get pending(): number {
    return this.fresh(this.users).size + this.fresh(this.groupsByPk).size;
  }

  /**
   * Checks now, instead of in the background, which deltas the catalog shows, and forgets
   * those (tests; a caller that wants the catalog's own answers).
   */
  async settle(): Promise<void> {
    await this.checking;
    this.lastCheck = Number.NEGATIVE_INFINITY;
    this.fresh(this.users);
    await this.checking;
  }

  async groups(): Promise<KnownGroup[]> {
    const recent = this.fresh(this.groupsByPk);
    const recentNames = new Set([...recent.values()].map(r => r.name));
    const result = (await this.base.groups()).filter(g => !recent.has(g.pk) && !recentNames.has(g.name));
    for (const [pk, r] of recent) if (r.entity) result.push({ name: r.name, pk, ...relationsOf(r.entity) });
    return result;
  }

  async usersInGroup(groupName: string): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersInGroup(groupName)).filter(u => !recent.has(u.pk));
    for (const [pk, r] of recent) {
      const memberOf = r.entity?.spec?.memberOf;
      if (Array.isArray(memberOf) && memberOf.includes(groupName)) result.push({ name: r.name, pk });
    }
    return result;
  }

  async memberEntities(groupName: string): Promise<Entity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.memberEntities(groupName)).filter(e => !recent.has(pkOf(e) ?? ''));
    for (const r of recent.values()) {
      const memberOf = r.entity?.spec?.memberOf;
      if (r.entity && Array.isArray(memberOf) && memberOf.includes(groupName)) result.push(r.entity);
    }
    return result;
  }

  async usersWithPks(pks: string[]): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersWithPks(pks.filter(pk => !recent.has(pk)))).filter(u => !recent.has(u.pk));
    for (const pk of pks) {
      const r = recent.get(pk);
      if (r?.entity) result.push({ name: r.name, pk });
    }
    return result;
  }

  async usersDenied(name: string): Promise<KnownEntity[]> {
    const recent = this.fresh(this.users);
    const result = (await this.base.usersDenied(name)).filter(u => !recent.has(u.pk));
    for (const [pk, r] of recent) {
      if (r.entity?.metadata.annotations?.[ANNOTATION_NAME_TAKEN] === name) result.push({ name: r.name, pk });
    }
    return result;
  }

  async userByPk(pk: string): Promise<KnownEntity | undefined> {
    const recent = this.fresh(this.users).get(pk);
    if (recent) return recent.entity ? { name: recent.name, pk } : undefined;
    return this.base.userByPk(pk);
  }

  async userByName(name: string): Promise<KnownEntity | undefined> {
    let removed = false;
    for (const [pk, r] of this.fresh(this.users)) {
      if (r.name !== name) continue;
      if (r.entity) return { name, pk };
      removed = true;
    }
    const found = await this.base.userByName(name);
    if (found && (removed || this.fresh(this.users).has(found.pk))) {
      // The catalog still shows a holder that a recent delta moved or removed.
      const recent = this.fresh(this.users).get(found.pk);
      return recent?.entity && recent.name === name ? found : undefined;
    }
    return found;
  }

  private mapFor(kind: 'User' | 'Group'): Map<string, Recent> {
    return kind === 'User' ? this.users : this.groupsByPk;
  }

  /** The map without the deltas that aged out; starts a catalog check when one is due. */
  private fresh(map: Map<string, Recent>): Map<string, Recent> {
    const now = this.now();
    const cutoff = now - this.maxAgeMs;
    for (const [key, r] of map) if (r.at < cutoff) map.delete(key);
    if (this.options.lookup && !this.checking && now - this.lastCheck >= this.checkEveryMs) {
      this.lastCheck = now;
      const due = [...this.users.values(), ...this.groupsByPk.values()].filter(r => r.at <= now - this.settleAfterMs);
      if (due.length > 0) {
        this.checking = this.forgetSettled(due, this.options.lookup)
          .catch(() => undefined) // the catalog did not answer: kept, checked again later
          .finally(() => (this.checking = undefined));
      }
    }
    return map;
  }

  /**
   * Forgets the deltas the catalog has processed: it shows them, or it moved on from what it
   * held before them to something newer. A delta replaced meanwhile is left to its successor.
   */
  private async forgetSettled(due: Recent[], lookup: CatalogLookup): Promise<void> {
    await this.lookUp(due, lookup, (recent, held) => {
      const now = fingerprint(held ?? null, recent.pk);
      const settled = now === recent.fingerprint || (recent.baselineKnown && !recent.notNewer.has(now));
      const map = this.mapFor(recent.kind);
      if (settled && map.get(recent.pk) === recent) map.delete(recent.pk);
    });
  }

  /** The catalog's entity at each delta's ref, `REFS_PER_LOOKUP` refs per lookup. */
  private async lookUp(
    recents: Recent[],
    lookup: CatalogLookup,
    each: (recent: Recent, held: Entity | undefined) => void,
  ): Promise<void> {
    for (let start = 0; start < recents.length; start += REFS_PER_LOOKUP) {
      const chunk = recents.slice(start, start + REFS_PER_LOOKUP);
      const held = await lookup(chunk.map(r => stringifyEntityRef({ kind: r.kind, namespace: 'default', name: r.name })));
      chunk.forEach((recent, i) => each(recent, held[i]));
    }
  }
}

/**
 * What this view answers for of an entity at a ref, as one string: absent (or another
 * pk's), or its name, name claim, memberships and group relations.
 */
function fingerprint(entity: Entity | null, pk: string): string {
  if (!entity || pkOf(entity) !== pk) return 'absent';
  const { parent, children } = relationsOf(entity);
  const memberOf = entity.spec?.memberOf;
  return JSON.stringify([
    entity.metadata.name,
    entity.metadata.annotations?.[ANNOTATION_NAME_TAKEN] ?? null,
    Array.isArray(memberOf) ? memberOf : [],
    parent ?? null,
    children,
  ]);
}

function kindOf(kind: string): 'User' | 'Group' | undefined {
  const lower = kind.toLowerCase();
  return lower === 'user' ? 'User' : lower === 'group' ? 'Group' : undefined;
}

function pkOf(entity: Entity): string | undefined {
  const annotations = entity.metadata.annotations ?? {};
  return annotations[ANNOTATION_USER_PK] ?? annotations[ANNOTATION_GROUP_PK];
}
