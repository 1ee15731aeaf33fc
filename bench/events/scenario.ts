/**
 * The directory the events bench runs against, and the kinds of change it measures.
 *
 * Directory: the demo seed (Demo Corp) plus `teams` "Bench Team NN" groups under
 * Engineering/Operations/Sales and `extraUsers` generated active internal users, each in one
 * team and, three times in ten, in one seeded group too.
 *
 * Every change kind knows how to make its change in the demo directory (which sends the
 * webhook) and how to tell, through the catalog HTTP API only, that the change is visible.
 */
import { DemoDirectory, seedDemoDirectory, SEED_GROUPS } from '../../dev/demo-authentik';
import { pick, seededRandom } from '../../dev/demo-authentik/random';
import { toEntityName } from '../../src/mapping/names';
import { CatalogHttp, displayNameOf, memberOfRelations, specMemberOf } from './catalog';

export const KINDS = [
  'user display-name update',
  'user created',
  'user deactivated',
  'user deleted',
  'member added (add_user)',
  'group renamed',
  'user groups set',
] as const;

export type Kind = (typeof KINDS)[number];

export interface BenchDirectory {
  directory: DemoDirectory;
  /** Dashed pks of the bench teams. */
  teamPks: string[];
  /** pks of the generated users. */
  extraUserPks: number[];
}

const TEAM_PARENTS = [SEED_GROUPS.engineering, SEED_GROUPS.engineering, SEED_GROUPS.operations, SEED_GROUPS.sales];
const SEEDED_FOR_MEMBERS = [
  SEED_GROUPS.engineering,
  SEED_GROUPS.platform,
  SEED_GROUPS.frontend,
  SEED_GROUPS.backend,
  SEED_GROUPS.operations,
  SEED_GROUPS.sre,
  SEED_GROUPS.data,
  SEED_GROUPS.design,
  SEED_GROUPS.sales,
  SEED_GROUPS.people,
];

export function buildBenchDirectory(options: { extraUsers: number; teams: number; seed: number }): BenchDirectory {
  const random = seededRandom(options.seed);
  const directory = seedDemoDirectory();
  const groupPk = (name: string) => directory.findGroupByName(name)!.pk;
  const teamPks: string[] = [];
  for (let i = 1; i <= options.teams; i += 1) {
    const parent = TEAM_PARENTS[i % TEAM_PARENTS.length];
    teamPks.push(directory.addGroup({ name: `Bench Team ${pad(i, 2)}`, parents: [groupPk(parent)] }).pk);
  }
  const extraUserPks: number[] = [];
  const joined = Date.UTC(2024, 5, 1);
  for (let i = 1; i <= options.extraUsers; i += 1) {
    const groups = [pick(random, teamPks)];
    if (random() < 0.3) groups.push(groupPk(pick(random, SEEDED_FOR_MEMBERS)));
    const id = pad(i, 4);
    const change = directory.addUser({
      username: `bench.user.${id}`,
      name: `Bench User ${id}`,
      email: `bench.user.${id}@bench.example`,
      groups,
      date_joined: joined + i * 60_000,
    });
    extraUserPks.push(change.pk);
  }
  return { directory, teamPks, extraUserPks };
}

/** Users the catalog should hold: active, internal or external (service accounts are off). */
export function eligibleUserCount(directory: DemoDirectory): number {
  let count = 0;
  for (const user of directory.userRecords()) {
    if (user.is_active && (user.type === 'internal' || user.type === 'external')) count += 1;
  }
  return count;
}

/** One change, ready to be made. */
export interface PreparedChange {
  kind: Kind;
  /** Human description for logs and the failure list. */
  label: string;
  /** Makes the change in the demo directory (which sends the webhook synchronously). */
  mutate(): void;
  /** Whether the change is visible through the catalog API. */
  visible(): Promise<boolean>;
  /** Bookkeeping once visible (pools, names). */
  commit(): void;
}

/**
 * What the bench knows about the catalog: entity names of the users it may touch (pk →
 * name, from the catalog after the first walk) and of the emitted groups (dashed pk → name).
 */
export class ScenarioState {
  private readonly random: () => number;
  private created = 0;
  private renamed = 0;
  private updated = 0;
  private cursor = 0;

  constructor(
    private readonly directory: DemoDirectory,
    private readonly catalog: CatalogHttp,
    /** Generated users present in the catalog, in pk order: the pool changes draw from. */
    readonly userNames: Map<number, string>,
    readonly groupNames: Map<string, string>,
    private readonly renameRotation: string[],
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  prepare(kind: Kind, tag: string): PreparedChange {
    switch (kind) {
      case 'user display-name update':
        return this.displayNameUpdate(tag);
      case 'user created':
        return this.userCreated(tag);
      case 'user deactivated':
        return this.userGone(kind, tag, pk => this.directory.updateUser(pk, { is_active: false }));
      case 'user deleted':
        return this.userGone(kind, tag, pk => this.directory.deleteUser(pk));
      case 'member added (add_user)':
        return this.memberAdded();
      case 'group renamed':
        return this.groupRenamed(tag);
      case 'user groups set':
        return this.groupsSet();
    }
  }

  /** Users still in the catalog, for the burst. */
  activeUsers(): Array<{ pk: number; name: string }> {
    return [...this.userNames].map(([pk, name]) => ({ pk, name }));
  }

  private nextUser(): { pk: number; name: string } {
    const pks = [...this.userNames.keys()];
    if (pks.length === 0) throw new Error('no users left to change');
    // Spread over the pool (stride coprime with most sizes) so consecutive changes touch different users.
    this.cursor = (this.cursor + 37) % pks.length;
    const pk = pks[this.cursor];
    return { pk, name: this.userNames.get(pk)! };
  }

  private displayNameUpdate(tag: string): PreparedChange {
    const user = this.nextUser();
    this.updated += 1;
    const displayName = `Bench User ${user.pk} (${tag} v${this.updated})`;
    return {
      kind: 'user display-name update',
      label: `user ${user.name}: display name → "${displayName}"`,
      mutate: () => void this.directory.updateUser(user.pk, { name: displayName }),
      visible: async () => displayNameOf(await this.catalog.byName('user', user.name)) === displayName,
      commit: () => undefined,
    };
  }

  private userCreated(tag: string): PreparedChange {
    this.created += 1;
    const username = `bench.new.${tag}.${pad(this.created, 3)}`;
    const name = toEntityName(username, 'unused');
    const displayName = `New ${tag} ${this.created}`;
    const team = pick(this.random, [...this.groupNames.keys()]);
    let pk = 0;
    return {
      kind: 'user created',
      label: `user ${name} created (in ${this.groupNames.get(team)})`,
      mutate: () => {
        pk = this.directory.addUser({ username, name: displayName, email: `${username}@bench.example`, groups: [team] }).pk;
      },
      visible: async () => displayNameOf(await this.catalog.byName('user', name)) === displayName,
      commit: () => void this.userNames.set(pk, name),
    };
  }

  private userGone(kind: Kind, tag: string, change: (pk: number) => void): PreparedChange {
    const user = this.nextUser();
    this.userNames.delete(user.pk); // never picked again, whatever happens
    return {
      kind,
      label: `user ${user.name} ${kind === 'user deleted' ? 'deleted' : 'deactivated'} (${tag})`,
      mutate: () => change(user.pk),
      visible: async () => (await this.catalog.byName('user', user.name)) === undefined,
      commit: () => undefined,
    };
  }

  private memberAdded(): PreparedChange {
    const user = this.nextUser();
    const current = this.directory.groupsOf(user.pk);
    const candidates = [...this.groupNames.keys()].filter(pk => !current.has(pk));
    const group = pick(this.random, candidates);
    const groupName = this.groupNames.get(group)!;
    return {
      kind: 'member added (add_user)',
      label: `add_user: ${user.name} → group ${groupName}`,
      mutate: () => void this.directory.addMember(group, user.pk),
      visible: async () => {
        const entity = await this.catalog.byName('user', user.name);
        return specMemberOf(entity).has(groupName) && memberOfRelations(entity).has(groupName);
      },
      commit: () => undefined,
    };
  }

  private groupRenamed(tag: string): PreparedChange {
    const group = this.renameRotation[this.renamed % this.renameRotation.length];
    this.renamed += 1;
    const oldName = this.groupNames.get(group)!;
    const record = this.directory.getGroup(group)!;
    const base = record.name.replace(/ \(r\d+[a-z]*\)$/, '');
    const newTitle = `${base} (r${this.renamed}${tag === 'mapping' ? 'm' : 'd'})`;
    const newName = toEntityName(newTitle, 'unused');
    // A member whose memberOf must be re-pointed: one the catalog holds.
    const members = [...this.directory.usersOf(group)].filter(pk => this.userNames.has(pk));
    if (members.length === 0) throw new Error(`group ${oldName} has no member in the catalog`);
    const member = members[Math.floor(this.random() * members.length)];
    const memberName = this.userNames.get(member)!;
    return {
      kind: 'group renamed',
      label: `group ${oldName} → ${newName} (${members.length} members; checked via ${memberName})`,
      mutate: () => void this.directory.renameGroup(group, newTitle),
      // The member first, and the group only once the member is re-pointed, by name alone: a
      // seeded group's entity is ~400 KB at 100,000 users (3,000 members, 2,500 children), and
      // fetching it whole every poll (25 ms) for the 30–45 s such a rename takes cost the
      // backend's one thread ~1,000 serialisations of it, competing with the processing measured.
      visible: async () => {
        const user = await this.catalog.byName('user', memberName);
        const memberOf = specMemberOf(user);
        const relations = memberOfRelations(user);
        if (!(memberOf.has(newName) && !memberOf.has(oldName) && relations.has(newName) && !relations.has(oldName))) {
          return false;
        }
        const [group] = await this.catalog.byRefs([`group:default/${newName}`], ['metadata.name']);
        return group?.metadata?.name === newName;
      },
      commit: () => void this.groupNames.set(group, newName),
    };
  }

  private groupsSet(): PreparedChange {
    const user = this.nextUser();
    const current = this.directory.groupsOf(user.pk);
    const candidates = [...this.groupNames.keys()].filter(pk => !current.has(pk));
    const first = pick(this.random, candidates);
    const second = pick(this.random, candidates.filter(pk => pk !== first));
    const wanted = [first, second];
    const expected = new Set(wanted.map(pk => this.groupNames.get(pk)!));
    return {
      kind: 'user groups set',
      label: `set groups of ${user.name} → [${[...expected].join(', ')}]`,
      mutate: () => void this.directory.setUserGroups(user.pk, wanted),
      visible: async () => {
        const entity = await this.catalog.byName('user', user.name);
        return sameSet(specMemberOf(entity), expected) && sameSet(memberOfRelations(entity), expected);
      },
      commit: () => undefined,
    };
  }
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every(x => b.has(x));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
