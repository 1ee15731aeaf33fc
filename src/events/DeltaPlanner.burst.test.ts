import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from '../__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { ChangeSet, DeltaPlanner, RECENT_MARGIN_MS } from './DeltaPlanner';

/**
 * A burst of user webhooks (a bulk edit, an import) at directory sizes where reading each
 * user, or walking the whole user list, costs hundreds of requests: the users saved since
 * the burst began are listed instead (`last_updated__gt`, authentik 2025.8+). That list is
 * an optimisation only: whoever it does not hold is read one by one as before.
 */

const config = testInstanceConfig();
const mapping = {
  instanceId: config.id,
  baseUrl: config.baseUrl,
  excludeGroups: config.excludeGroups,
  includeServiceAccounts: config.includeServiceAccounts,
};
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

async function setup(users: number) {
  let clock = T0;
  const dir = new MemoryAuthentik();
  dir.now = () => clock;
  const teams = Array.from({ length: 20 }, (_, i) => dir.addGroup({ name: `Team ${i}` }));
  for (let i = 0; i < users; i++) {
    const user = dir.addUser({ username: `user${i}`, type: i % 50 === 7 ? 'service_account' : 'internal' });
    teams[i % teams.length].users.push(user.pk);
  }
  const catalog = new MemoryCatalog();
  catalog.replaceAll(await walkAll(dir, config));
  const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 100, concurrency: 3 });
  // The group directory is read once per process (and every 10 minutes): not the burst's cost.
  await planner.plan({ users: new Set(), groups: new Set() });
  const plan = async (users: Iterable<number>, since?: number) => {
    const changes: ChangeSet = { users: new Set([...users].map(String)), groups: new Set(), since };
    dir.requests = 0;
    const delta = await planner.plan(changes);
    catalog.apply(delta);
    expect(delta.requests).toBe(dir.requests);
    return delta;
  };
  const expectWalkEqual = async () => {
    const fresh = new MemoryCatalog();
    fresh.replaceAll(await walkAll(dir, config));
    expect(catalog.snapshot()).toEqual(fresh.snapshot());
  };
  return {
    dir,
    teams,
    catalog,
    plan,
    expectWalkEqual,
    /** Moves authentik's clock (and the receipt of hints, on the same clock here). */
    advance: (ms: number) => (clock += ms),
    at: () => clock,
  };
}

/**
 * Changes `count` users an hour after the walk, most by a save, some not: deleted,
 * deactivated, and a membership changed through the group without a save.
 */
function burst(s: Awaited<ReturnType<typeof setup>>, count: number) {
  s.advance(HOUR);
  const since = s.at() + 40; // the first hint arrives 40 ms after the first save
  const changed: number[] = [];
  const deleted: number[] = [];
  const deactivated: number[] = [];
  const unsaved: number[] = [];
  for (let pk = 1; changed.length < count; pk += 7) {
    changed.push(pk);
    s.advance(1);
    const kind = changed.length % 200;
    if (kind === 11) {
      s.dir.deleteUser(pk);
      deleted.push(pk);
    } else if (kind === 23) {
      s.dir.save(pk, { is_active: false });
      deactivated.push(pk);
    } else if (kind === 37) {
      s.teams[(pk + 1) % s.teams.length].users.push(pk); // add_user: the user is not saved
      unsaved.push(pk);
    } else s.dir.save(pk, { name: `Renamed ${pk}` });
  }
  return { changed, since, deleted, deactivated, unsaved };
}

describe('DeltaPlanner: a burst of user changes, read through last_updated__gt', () => {
  it('1,000 changed users in a 20,000-user directory cost ≤ 30 requests, and end as a full walk would', async () => {
    const s = await setup(20_000);
    const { changed, since, deleted, deactivated, unsaved } = burst(s, 1000);
    // Users saved since then that sent no hint here (another instance's burst): listed too.
    for (let pk = 3; pk < 3000; pk += 20) s.dir.save(pk);

    const delta = await s.plan(changed, since);
    expect(s.dir.requests).toBeLessThanOrEqual(30);
    const serviceAccount = (pk: number) => (pk - 1) % 50 === 7;
    const gone = [...deleted, ...deactivated];
    expect(delta.added.filter(e => e.kind === 'User').length).toBe(
      changed.filter(pk => !serviceAccount(pk) && !gone.includes(pk)).length,
    );
    expect(delta.removed.map(r => Number(r.pk)).sort((a, b) => a - b)).toEqual(
      gone.filter(pk => !serviceAccount(pk)).sort((a, b) => a - b),
    );
    // Users that changed without a save (not in the recent list) were read too: the walk agrees.
    expect(unsaved.length).toBe(5);
    await s.expectWalkEqual();
  }, 180_000);

  it('reads the users missing from the recent list one by one: deleted ones are removed, membership-only ones updated', async () => {
    const s = await setup(2_000);
    s.advance(HOUR);
    const since = s.at();
    const saved = Array.from({ length: 30 }, (_, i) => i + 1);
    for (const pk of saved) s.dir.save(pk, { name: `Saved ${pk}` });
    s.dir.deleteUser(500);
    s.dir.deleteUser(501);
    s.teams[0].users.push(502); // add_user on the group: the user itself is not saved
    s.teams[4].users = s.teams[4].users.filter(pk => pk !== 505);

    const delta = await s.plan([...saved, 500, 501, 502, 505], since);
    // 1 page of recent users + 4 users read one by one.
    expect(s.dir.requests).toBe(1 + 4);
    expect(delta.removed.map(r => r.name).sort()).toEqual(['user499', 'user500']);
    expect(s.catalog.entities.get('user:default/user501')?.spec?.memberOf).toEqual(['team-0', 'team-1']);
    expect(s.catalog.entities.get('user:default/user504')?.spec?.memberOf).toEqual([]);
    await s.expectWalkEqual();
  });

  it('does not depend on clocks: with authentik far behind, every user is read another way', async () => {
    const s = await setup(2_000);
    const { changed } = burst(s, 200);
    const delta = await s.plan(changed, s.at() + RECENT_MARGIN_MS + HOUR); // hints "received" an hour late
    expect(delta.added.length).toBeGreaterThan(150);
    await s.expectWalkEqual();
  });

  it('stops reading the recent list when it is larger than reading the users otherwise', async () => {
    const s = await setup(5_000);
    const { changed, since } = burst(s, 20);
    // An import saved everyone since then: 50 pages of recent users for 20 wanted.
    for (let pk = 1; pk <= 5_000; pk += 1) if (s.dir.users.has(pk)) s.dir.save(pk);
    await s.plan(changed, since);
    expect(s.dir.requests).toBeLessThanOrEqual(1 + 20); // the first page, then one by one
    await s.expectWalkEqual();
  });

  it('on an authentik that ignores the filter (before 2025.8), wastes at most one request, once, and stays correct', async () => {
    const withoutFilter = async (since: (at: number) => number | undefined) => {
      const s = await setup(3_000);
      s.dir.lastUpdated = false;
      const first = burst(s, 300);
      const firstDelta = await s.plan(first.changed, since(first.since));
      const firstRequests = s.dir.requests;
      await s.expectWalkEqual();
      const second = burst(s, 300);
      await s.plan(second.changed, since(second.since));
      await s.expectWalkEqual();
      return { firstRequests, secondRequests: s.dir.requests, firstDelta };
    };
    const fallback = await withoutFilter(since => since);
    const today = await withoutFilter(() => undefined);
    expect(fallback.firstDelta.added).toEqual(today.firstDelta.added);
    expect(fallback.firstRequests).toBeLessThanOrEqual(today.firstRequests + 1);
    expect(fallback.secondRequests).toBe(today.secondRequests); // remembered: not asked again
  });

  it('keeps reading few users one by one, and without `since` behaves as before', async () => {
    const s = await setup(2_000);
    s.advance(HOUR);
    const since = s.at();
    for (let pk = 1; pk <= 10; pk++) s.dir.save(pk, { name: `Saved ${pk}` });
    await s.plan(Array.from({ length: 10 }, (_, i) => i + 1), since);
    expect(s.dir.requests).toBe(10);
    await s.expectWalkEqual();
  });
});
