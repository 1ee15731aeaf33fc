import fc from 'fast-check';
import { pick, seededRandom } from '../../dev/demo-authentik/random';
import { AuthentikApi } from '../client/AuthentikClient';
import { AuthentikPage, normalizeGroupPk } from '../client/schemas';
import { aGroup, aUser } from '../__testUtils__/fixtures';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from '../__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { ChangeSet, DeltaPlanner } from './DeltaPlanner';
import knexFactory from 'knex';
import { MemoryEventLog } from '../__testUtils__/MemoryEventLog';
import { EventLogFollower } from '../eventlog/EventLogFollower';
import { EventLogStore } from '../eventlog/EventLogStore';

/**
 * The webhook path's central promise: whatever authentik changes, and however its
 * notifications arrive (duplicated, reordered, batched, late), once they are applied the
 * catalog equals what a fresh full walk of the final directory emits.
 */

// Some usernames map to the same entity name (ivan / Ivan / IVAN, Carol.King / carol.king):
// the oldest keeps it, the others get suffixes, and the name passes on when its holder goes.
const USERNAMES = ['alice', 'bob', 'Carol.King', 'dave', 'Eve Adams', 'ivan', 'Ivan', 'IVAN', 'carol.king', 'judy'];
const DISPLAY_NAMES = ['', 'Alice A.', 'Bob B', 'Someone Else', 'Zoë Ümlaut'];
const GROUP_NAMES = ['Engineering', 'Platform', 'SRE', 'Ops', 'Sales', 'Design', 'Data & AI', 'Admins', 'Web', 'Mobile'];
const USER_TYPES = ['internal', 'internal', 'external', 'service_account', 'internal_service_account'];
const EXCLUDED = ['admins'];

type Operation =
  | { op: 'createUser'; name: number; type: number; active: boolean }
  | { op: 'renameUser'; user: number; name: number }
  | { op: 'setDisplayName'; user: number; displayName: number }
  | { op: 'setEmail'; user: number; empty: boolean }
  | { op: 'setActive'; user: number; active: boolean }
  | { op: 'deleteUser'; user: number }
  | { op: 'setUserGroups'; user: number; groups: number[] }
  | { op: 'addMember'; group: number; user: number }
  | { op: 'removeMember'; group: number; user: number }
  | { op: 'createGroup'; name: number }
  | { op: 'renameGroup'; group: number; name: number }
  | { op: 'setParents'; group: number; parents: number[] }
  | { op: 'deleteGroup'; group: number };

const operationOver = (idx: fc.Arbitrary<number>): fc.Arbitrary<Operation> => fc.oneof(
  fc.record({ op: fc.constant('createUser' as const), name: idx, type: fc.nat(4), active: fc.boolean() }),
  fc.record({ op: fc.constant('renameUser' as const), user: idx, name: idx }),
  fc.record({ op: fc.constant('setDisplayName' as const), user: idx, displayName: fc.nat(4) }),
  fc.record({ op: fc.constant('setEmail' as const), user: idx, empty: fc.boolean() }),
  fc.record({ op: fc.constant('setActive' as const), user: idx, active: fc.boolean() }),
  fc.record({ op: fc.constant('deleteUser' as const), user: idx }),
  fc.record({ op: fc.constant('setUserGroups' as const), user: idx, groups: fc.array(idx, { maxLength: 3 }) }),
  fc.record({ op: fc.constant('addMember' as const), group: idx, user: idx }),
  fc.record({ op: fc.constant('removeMember' as const), group: idx, user: idx }),
  fc.record({ op: fc.constant('createGroup' as const), name: idx }),
  fc.record({ op: fc.constant('renameGroup' as const), group: idx, name: idx }),
  fc.record({ op: fc.constant('setParents' as const), group: idx, parents: fc.array(idx, { maxLength: 2 }) }),
  fc.record({ op: fc.constant('deleteGroup' as const), group: idx }),
);
const idx = fc.nat(20);
const operation = operationOver(idx);

interface Delivery {
  operation: Operation;
  /** How the operation's notifications travel. */
  fate: 'now' | 'later' | 'twice' | 'dropped';
}

/** A populated directory: users, groups, memberships and hierarchy, then some noise. */
const initialDirectory: fc.Arbitrary<Operation[]> = fc
  .tuple(
    fc.uniqueArray(fc.nat(USERNAMES.length - 1), { minLength: 2, maxLength: 8 }),
    fc.array(fc.record({ type: fc.nat(4), active: fc.boolean() }), { minLength: 8, maxLength: 8 }),
    fc.uniqueArray(fc.nat(GROUP_NAMES.length - 1), { minLength: 1, maxLength: 6 }),
    fc.array(fc.record({ group: idx, user: idx }), { maxLength: 20 }),
    fc.array(fc.record({ group: idx, parents: fc.array(idx, { maxLength: 2 }) }), { maxLength: 4 }),
    fc.array(operation, { maxLength: 6 }),
  )
  .map(([names, kinds, groupNames, members, hierarchy, noise]) => [
    ...names.map((name, i): Operation => ({ op: 'createUser', name, type: kinds[i].type, active: kinds[i].active || i % 2 === 0 })),
    ...groupNames.map((name): Operation => ({ op: 'createGroup', name })),
    ...members.map((m): Operation => ({ op: 'addMember', ...m })),
    ...hierarchy.map((h): Operation => ({ op: 'setParents', ...h })),
    ...noise,
  ]);

const scenario = fc.record({
  initial: initialDirectory,
  changes: fc.array(
    fc.record({ operation, fate: fc.constantFrom<Delivery['fate']>('now', 'now', 'later', 'twice', 'dropped') }),
    { minLength: 1, maxLength: 12 },
  ),
  /** Drives the order in which held-back notifications are released. */
  shuffleSeed: fc.integer(),
});

interface Hint {
  model: 'user' | 'group';
  pk: string;
  /** The object's name when the event was recorded, as authentik's context carries it. */
  name?: string;
}

/** Applies an operation to the directory and returns the notifications authentik would send. */
function applyOperation(dir: MemoryAuthentik, o: Operation): Hint[] {
  const users = [...dir.users.values()];
  const groups = [...dir.groups.values()];
  const user = 'user' in o && users.length ? users[o.user % users.length] : undefined;
  const group = 'group' in o && groups.length ? groups[o.group % groups.length] : undefined;
  const userHint = (pk: number): Hint => ({ model: 'user', pk: String(pk) });
  const groupHint = (pk: string): Hint => ({ model: 'group', pk: normalizeGroupPk(pk), name: dir.group(pk)?.name });
  const usernameTaken = (name: string) => users.some(u => u.username === name);
  const groupNameTaken = (name: string) => groups.some(g => g.name.toLowerCase().replace(/[^a-z0-9]/g, '') === name.toLowerCase().replace(/[^a-z0-9]/g, ''));

  switch (o.op) {
    case 'createUser': {
      const name = USERNAMES[o.name % USERNAMES.length];
      if (usernameTaken(name)) return [];
      const created = dir.addUser({ username: name, type: USER_TYPES[o.type], is_active: o.active });
      return [userHint(created.pk)];
    }
    case 'renameUser': {
      const name = USERNAMES[o.name % USERNAMES.length];
      if (!user || usernameTaken(name)) return [];
      user.username = name;
      return [userHint(user.pk)];
    }
    case 'setDisplayName':
      if (!user) return [];
      user.name = DISPLAY_NAMES[o.displayName];
      return [userHint(user.pk)];
    case 'setEmail':
      if (!user) return [];
      user.email = o.empty ? '' : `${user.username.replace(/\s/g, '')}@example.com`;
      return [userHint(user.pk)];
    case 'setActive':
      if (!user) return [];
      user.is_active = o.active;
      return [userHint(user.pk)];
    case 'deleteUser':
      if (!user) return [];
      dir.deleteUser(user.pk);
      return [userHint(user.pk)];
    case 'setUserGroups': {
      if (!user || !groups.length) return [];
      const wanted = new Set(o.groups.map(i => groups[i % groups.length]));
      for (const g of groups) {
        g.users = g.users.filter(pk => pk !== user.pk);
        if (wanted.has(g)) g.users.push(user.pk);
      }
      return [userHint(user.pk)];
    }
    case 'addMember':
      if (!group || !user || group.users.includes(user.pk)) return [];
      group.users.push(user.pk);
      return [groupHint(group.pk)];
    case 'removeMember': {
      if (!group || group.users.length === 0) return [];
      const member = group.users[o.user % group.users.length];
      group.users = group.users.filter(pk => pk !== member);
      return [groupHint(group.pk)];
    }
    case 'createGroup': {
      const name = GROUP_NAMES[o.name % GROUP_NAMES.length];
      if (groupNameTaken(name)) return [];
      return [groupHint(dir.addGroup({ name }).pk)];
    }
    case 'renameGroup': {
      const name = GROUP_NAMES[o.name % GROUP_NAMES.length];
      if (!group || groupNameTaken(name)) return [];
      group.name = name;
      return [groupHint(group.pk)];
    }
    case 'setParents':
      if (!group) return [];
      group.parents = [...new Set(o.parents.map(i => groups[i % groups.length].pk))];
      return [groupHint(group.pk)];
    case 'deleteGroup': {
      if (!group) return [];
      const hint = groupHint(group.pk);
      dir.deleteGroup(group.pk);
      return [hint];
    }
    default:
      return [];
  }
}

/**
 * A full walk; a directory with nothing to emit is an empty catalog here (the provider
 * refuses it). The provider also refuses a walk that reads no users or no groups (a token
 * that cannot see them); here that kind really is empty, so the walk reads a sentinel in
 * its place, which emits nothing.
 */
async function walk(dir: MemoryAuthentik, config: ReturnType<typeof testInstanceConfig>) {
  try {
    return await walkAll(dir, config);
  } catch (error) {
    if (/listed no users and no groups/.test(String(error))) return [];
    if (!/listed no (users|groups) while/.test(String(error))) throw error;
    const withSentinels = { ...config, excludeGroups: [...config.excludeGroups, SENTINEL_GROUP.name] };
    return (await walkAll(sentinelIfEmpty(dir), withSentinels)).filter(e => e.metadata.name !== SENTINEL_USER.username);
  }
}

const SENTINEL_USER = aUser({ pk: 999_999_999, username: 'walk-oracle-sentinel' });
const SENTINEL_GROUP = aGroup({ pk: 'ffffffff-ffff-4fff-bfff-ffffffffffff', name: 'walk-oracle-sentinel' });

/** `api` whose empty user or group list holds one sentinel instead. */
function sentinelIfEmpty(api: AuthentikApi): AuthentikApi {
  const fill = <T>(page: AuthentikPage<T> | undefined, sentinel: T): AuthentikPage<T> | undefined =>
    page && page.pagination.count === 0
      ? { pagination: { ...page.pagination, count: 1, total_pages: 1, start_index: 1, end_index: 1 }, results: [sentinel] }
      : page;
  return {
    listUsers: async request => fill(await api.listUsers(request), SENTINEL_USER),
    listGroups: async request => fill(await api.listGroups(request), SENTINEL_GROUP),
    getUser: (pk, signal) => api.getUser(pk, signal),
    getGroup: (pk, signal) => api.getGroup(pk, signal),
  };
}

function changeSetOf(hints: Hint[]): ChangeSet {
  const changes: ChangeSet = { users: new Set(), groups: new Set(), groupNames: new Set() };
  for (const hint of hints) {
    (hint.model === 'user' ? changes.users : changes.groups).add(hint.pk);
    if (hint.model === 'group' && hint.name) changes.groupNames!.add(hint.name);
  }
  return changes;
}

/**
 * authentik requests one event may cost, its confirmation read included: the changed object
 * (a group's member pks come with it), a member who joined or left, the confirmation. The
 * members of a renamed or deleted group are rebuilt from the catalog, not read.
 */
function requestBound(_op: Operation['op']): number {
  return 3;
}

/** Each kind of change once, on objects that exist in `largeDirectory` (group 0 is "Everyone"). */
const everyKindOnce: Operation[] = [
  { op: 'deleteUser', user: 0 }, // alice: her username is free again
  { op: 'createUser', name: 0, type: 0, active: true },
  { op: 'renameUser', user: 5, name: 9 }, // judy: no user of largeDirectory has that name
  { op: 'setDisplayName', user: 6, displayName: 2 },
  { op: 'setEmail', user: 7, empty: true },
  { op: 'setActive', user: 8, active: false },
  { op: 'setUserGroups', user: 10, groups: [3, 4] },
  { op: 'addMember', group: 5, user: 11 },
  { op: 'removeMember', group: 5, user: 11 },
  { op: 'createGroup', name: 4 },
  { op: 'renameGroup', group: 6, name: 9 },
  { op: 'setParents', group: 7, parents: [2] },
  { op: 'renameGroup', group: 0, name: 1 },
  { op: 'deleteGroup', group: 0 },
];

/** Plans one event, applies it, then plans and applies the confirmation it asks for; returns the requests of both. */
async function applyWithConfirmation(planner: DeltaPlanner, catalog: MemoryCatalog, changes: ChangeSet): Promise<number> {
  const delta = await planner.plan(changes);
  catalog.apply(delta);
  const confirmation = await planner.plan({ ...delta.confirm, confirming: delta.confirm });
  catalog.apply(confirmation);
  return delta.requests + confirmation.requests;
}

/**
 * Hundreds of groups in a four-level tree (a fifth with two parents), two thousand users, an
 * "Everyone" group holding all of them, a few inactive users and service accounts.
 */
function largeDirectory(seed: number): MemoryAuthentik {
  const random = seededRandom(seed);
  const dir = new MemoryAuthentik();
  const everyone = dir.addGroup({ name: 'Everyone' });
  const levels: string[][] = [[]];
  for (const [level, count] of [5, 25, 70, 200].entries()) {
    levels[level + 1] = [];
    for (let i = 0; i < count; i++) {
      const parents = level === 0 ? [] : [pick(random, levels[level])];
      if (level > 0 && random() < 0.2) parents.push(pick(random, levels[level]));
      levels[level + 1].push(dir.addGroup({ name: `Team ${level}.${i}`, parents: [...new Set(parents)] }).pk);
    }
  }
  const teams = levels.flat();
  for (let i = 0; i < 2000; i++) {
    const user = dir.addUser({
      username: i % 250 === 0 ? USERNAMES[(i / 250) % USERNAMES.length] : `user${i}`,
      is_active: random() > 0.05,
      type: random() < 0.03 ? 'service_account' : 'internal',
    });
    everyone.users.push(user.pk);
    for (let n = Math.floor(random() * 3); n > 0; n--) dir.group(pick(random, teams))!.users.push(user.pk);
  }
  return dir;
}

describe('webhook deltas converge to the full walk', () => {
  const config = testInstanceConfig({ excludeGroups: EXCLUDED });
  const mapping = {
    instanceId: config.id,
    baseUrl: config.baseUrl,
    excludeGroups: config.excludeGroups,
    includeServiceAccounts: config.includeServiceAccounts,
  };

  it('for any changes, duplicated, reordered, batched or redelivered late', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ initial, changes, shuffleSeed }) => {
        const dir = new MemoryAuthentik();
        for (const o of initial) applyOperation(dir, o);
        const catalog = new MemoryCatalog();
        catalog.replaceAll(await walk(dir, config));
        const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 2, concurrency: 2 });
        const apply = async (hints: Hint[]) => {
          if (hints.length) catalog.apply(await planner.plan(changeSetOf(hints)));
        };

        const random = seededRandom(shuffleSeed);
        const held: Hint[] = [];
        const dropped: Hint[] = [];
        for (const { operation: o, fate } of changes) {
          const hints = applyOperation(dir, o);
          if (fate === 'now') await apply(hints);
          if (fate === 'twice') {
            await apply(hints);
            held.push(...hints);
          }
          if (fate === 'later') held.push(...hints);
          if (fate === 'dropped') dropped.push(...hints);
          // Release some held notifications, in a random order and random batches.
          while (held.length && random() < 0.4) {
            await apply(held.splice(Math.floor(random() * held.length), 1 + Math.floor(random() * 2)));
          }
        }
        while (held.length) {
          await apply(held.splice(Math.floor(random() * held.length), 1));
        }
        // authentik delivers at least once: what was lost arrives eventually (or the next
        // walk repairs it, which is this same comparison).
        await apply(dropped);

        const fresh = new MemoryCatalog();
        fresh.replaceAll(await walk(dir, config));
        expect(catalog.snapshot()).toEqual(fresh.snapshot());
      }),
      { numRuns: 300 },
    );
  });

  it('for any changes when webhooks are dropped and the event log is replayed', async () => {
    // Every change is in authentik's log; webhooks deliver some (claiming their event pk,
    // as the handler does) and lose the rest; the follower then replays what nobody applied.
    const db = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    const store = new EventLogStore(async () => db);
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(scenario, fc.integer({ min: 1, max: 4 }), async ({ initial, changes, shuffleSeed }, pageSize) => {
          const instanceId = `run-${run++}`;
          const dir = new MemoryAuthentik();
          for (const o of initial) applyOperation(dir, o);
          const catalog = new MemoryCatalog();
          catalog.replaceAll(await walk(dir, config));
          const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 2, concurrency: 2 });
          const log = new MemoryEventLog();
          const follower = new EventLogFollower({
            instanceId,
            api: log,
            store,
            apply: async changeSet => catalog.apply(await planner.plan(changeSet)),
            requestWalk: () => Promise.reject(new Error('no gap expected')),
            logger: { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined, child: () => undefined as never },
            pageSize,
            maxOutageMs: 3_600_000,
            now: () => log.clock,
          });
          await follower.poll(); // starts following the (empty) log

          const random = seededRandom(shuffleSeed);
          const webhook = async (logged: Array<{ hint: Hint; eventId: string }>) => {
            const claimed = await store.claim(instanceId, logged.map(l => l.eventId), log.clock);
            const hints = logged.filter(l => claimed.has(l.eventId)).map(l => l.hint);
            if (hints.length) catalog.apply(await planner.plan(changeSetOf(hints)));
          };
          for (const { operation: o, fate } of changes) {
            const logged = applyOperation(dir, o).map(hint => ({
              hint,
              eventId: log.add(hint.model, hint.model === 'user' ? Number(hint.pk) : hint.pk, 'model_updated', hint.name ?? '').pk.replace(/-/g, ''),
            }));
            if (fate !== 'dropped') await webhook(logged);
            if (fate === 'twice') await webhook(logged);
            if (random() < 0.3) await follower.poll(); // the follower runs now and then
          }
          await follower.poll();

          const fresh = new MemoryCatalog();
          fresh.replaceAll(await walk(dir, config));
          expect(catalog.snapshot()).toEqual(fresh.snapshot());
        }),
        { numRuns: 150 },
      );
    } finally {
      await db.destroy();
    }
  });

  it('in a large directory, for a cost per event that does not grow with it', async () => {
    const kinds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(operationOver(fc.nat(10_000)), { minLength: 15, maxLength: 30 }), async (seed, operations) => {
        const dir = largeDirectory(seed);
        const catalog = new MemoryCatalog();
        catalog.replaceAll(await walk(dir, config));
        const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 100, concurrency: 3 });
        // The planner reads the group directory once, like a process that has seen events before.
        await planner.plan(changeSetOf([]));

        for (const o of operations) {
          const hints = applyOperation(dir, o);
          if (hints.length === 0) continue;
          const requests = await applyWithConfirmation(planner, catalog, changeSetOf(hints));
          kinds.add(o.op);
          // Compared as an object so that a failure names the event.
          expect({ event: o.op, requests: Math.min(requests, requestBound(o.op)) }).toEqual({ event: o.op, requests });
        }
        const fresh = new MemoryCatalog();
        fresh.replaceAll(await walk(dir, config));
        expect(catalog.snapshot()).toEqual(fresh.snapshot());
      }),
      // One run always has every kind (random runs may miss one), deleting the biggest group last.
      { numRuns: 5, examples: [[7, everyKindOnce]] },
    );
    expect([...kinds].sort()).toEqual(
      ['addMember', 'createGroup', 'createUser', 'deleteGroup', 'deleteUser', 'removeMember', 'renameGroup']
        .concat(['renameUser', 'setActive', 'setDisplayName', 'setEmail', 'setParents', 'setUserGroups'])
        .sort(),
    );
  });

  it('would notice a planner that reads every group per event', async () => {
    // Guard for the bound above: the planner before this one re-read the group list per event.
    const dir = largeDirectory(1);
    const catalog = new MemoryCatalog();
    catalog.replaceAll(await walk(dir, config));
    const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 100, concurrency: 3, groupIndexTtlMs: 0 });
    const user = [...dir.users.values()].find(u => u.is_active && u.type === 'internal')!;
    user.email = 'changed@example.com';

    const requests = await applyWithConfirmation(planner, catalog, changeSetOf([{ model: 'user', pk: String(user.pk) }]));
    expect(requests).toBeGreaterThan(requestBound('setEmail'));
  });

  it('would notice a planner that forgets the previous members of a changed group', async () => {
    // Guard for the property above: a directory where only the catalog knows who left.
    const dir = new MemoryAuthentik();
    const alice = dir.addUser({ username: 'alice' });
    const team = dir.addGroup({ name: 'Team', users: [alice.pk] });
    const catalog = new MemoryCatalog();
    catalog.replaceAll(await walkAll(dir, config));
    const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 2, concurrency: 2 });

    team.users = [];
    catalog.apply(await planner.plan({ users: new Set(), groups: new Set([normalizeGroupPk(team.pk)]) }));

    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual([]);
  });
});
