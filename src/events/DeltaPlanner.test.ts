import { normalizeGroupPk } from '../client/schemas';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from '../__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from '../__testUtils__/walk';
import { ChangeSet, DeltaPlanner } from './DeltaPlanner';

const config = testInstanceConfig({ excludeGroups: ['admins'] });
const mapping = {
  instanceId: config.id,
  baseUrl: config.baseUrl,
  excludeGroups: config.excludeGroups,
  includeServiceAccounts: false,
};

async function setup(build: (dir: MemoryAuthentik) => void) {
  const dir = new MemoryAuthentik();
  build(dir);
  const catalog = new MemoryCatalog();
  catalog.replaceAll(await walkAll(dir, config));
  const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 100, concurrency: 2 });
  const apply = async (changes: Partial<ChangeSet>) => {
    const delta = await planner.plan({ users: new Set(), groups: new Set(), ...changes });
    catalog.apply(delta);
    return delta;
  };
  const names = () => [...catalog.entities.keys()].sort();
  return { dir, catalog, apply, names };
}

describe('DeltaPlanner', () => {
  it('removes a user that became a service account, and never removes on a failed read', async () => {
    const { dir, apply, names } = await setup(d => {
      d.addUser({ username: 'bot' });
      d.addGroup({ name: 'Team' });
    });
    dir.users.get(1)!.type = 'service_account';
    await apply({ users: new Set(['1']) });
    expect(names()).toEqual(['group:default/team']);

    dir.users.get(1)!.type = 'internal';
    dir.getUser = async () => {
      throw new Error('authentik is down');
    };
    await expect(apply({ users: new Set(['1']) })).rejects.toThrow('authentik is down');
    expect(names()).toEqual(['group:default/team']);
  });

  it('gives a new user whose name collides with an older one a suffixed name', async () => {
    const { dir, apply, names } = await setup(d => {
      d.addGroup({ name: 'staff' }); // a walk that reads no groups at all is refused
      d.addUser({ username: 'jane.doe' });
    });
    const newer = dir.addUser({ username: 'Jane.Doe' });
    await apply({ users: new Set([String(newer.pk)]) });
    expect(names()).toEqual(['group:default/staff', 'user:default/jane.doe', `user:default/jane.doe-${newer.pk}`]);
  });

  it('gives a contested name back to the older user and renames the newer one', async () => {
    const { dir, apply, names } = await setup(d => {
      d.addGroup({ name: 'staff' }); // a walk that reads no groups at all is refused
      d.addUser({ username: 'old' });
      d.addUser({ username: 'jane' });
    });
    dir.users.get(1)!.username = 'JANE';
    await apply({ users: new Set(['1']) });
    expect(names()).toEqual(['group:default/staff', 'user:default/jane', 'user:default/jane-2']);
  });

  it('re-points members and children when a group is renamed, and cleans up when it is deleted', async () => {
    const { dir, catalog, apply, names } = await setup(d => {
      const alice = d.addUser({ username: 'alice' });
      const parent = d.addGroup({ name: 'Eng', users: [alice.pk] });
      d.addGroup({ name: 'Web', parents: [parent.pk] });
    });
    const eng = [...dir.groups.values()].find(g => g.name === 'Eng')!;
    eng.name = 'Engineering';
    await apply({ groups: new Set([normalizeGroupPk(eng.pk)]) });
    expect(names()).toEqual(['group:default/engineering', 'group:default/web', 'user:default/alice']);
    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual(['engineering']);
    expect(catalog.entities.get('group:default/web')?.spec?.parent).toBe('engineering');

    dir.deleteGroup(eng.pk);
    await apply({ groups: new Set([normalizeGroupPk(eng.pk)]) });
    expect(names()).toEqual(['group:default/web', 'user:default/alice']);
    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual([]);
    expect(catalog.entities.get('group:default/web')?.spec?.parent).toBeUndefined();
  });

  it('treats a group renamed into an excluded name like a deletion', async () => {
    const { dir, catalog, apply, names } = await setup(d => {
      const alice = d.addUser({ username: 'alice' });
      d.addGroup({ name: 'Ops', users: [alice.pk] });
    });
    const ops = [...dir.groups.values()][0];
    ops.name = 'Admins';
    await apply({ groups: new Set([normalizeGroupPk(ops.pk)]) });
    expect(names()).toEqual(['user:default/alice']);
    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual([]);
  });

  it('reads a large batch of users by walking the list instead of one request per user', async () => {
    const { dir, apply } = await setup(d => {
      for (let i = 0; i < 1000; i++) d.addUser({ username: `user${i}` });
      d.addGroup({ name: 'All' });
    });
    for (const user of dir.users.values()) user.name = `Renamed ${user.pk}`;
    dir.requests = 0;
    const delta = await apply({ users: new Set([...dir.users.keys()].map(String)) });
    expect(delta.added).toHaveLength(1000);
    expect(dir.requests).toBeLessThan(30);
    expect(delta.requests).toBe(dir.requests);
  });
});

describe('DeltaPlanner, reading only what changed', () => {
  it('reads a membership again when the first read raced the write (authentik records the event first)', async () => {
    const { dir, catalog, apply } = await setup(d => {
      d.addUser({ username: 'alice' });
      d.addGroup({ name: 'Team' });
    });
    const team = [...dir.groups.values()][0];
    const key = normalizeGroupPk(team.pk);
    // add_user: the event is out, the membership row is not written yet when we read.
    const first = await apply({ groups: new Set([key]) });
    expect(first.added.filter(e => e.kind === 'User')).toEqual([]);
    expect(first.confirm.groups).toEqual(new Set([key]));

    team.users.push(1);
    const second = await apply({ groups: new Set([key]), confirming: { users: new Set(), groups: new Set([key]) } });
    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual(['team']);
    expect(second.requests).toBe(2); // the group, then alice
    expect(second.confirm.groups.size).toBe(0); // confirmed once, not again
  });

  it('confirms a changed user once, and a group whose read explained the change not at all', async () => {
    const { dir, apply } = await setup(d => {
      d.addUser({ username: 'alice' });
      d.addGroup({ name: 'Team' });
    });
    const team = [...dir.groups.values()][0];
    team.users.push(1);
    const delta = await apply({ users: new Set(['1']), groups: new Set([normalizeGroupPk(team.pk)]) });
    expect(delta.confirm).toEqual({ users: new Set(['1']), groups: new Set() });
  });

  it('reads users one by one at most `concurrency` at a time', async () => {
    const { dir, apply } = await setup(d => {
      d.addGroup({ name: 'team' }); // a directory with users and no groups is refused by the walk
      for (let i = 0; i < 8; i++) d.addUser({ username: `user${i}` });
    });
    let inFlight = 0;
    let most = 0;
    const getUser = dir.getUser.bind(dir);
    dir.getUser = async pk => {
      most = Math.max(most, ++inFlight);
      await new Promise(resolve => setTimeout(resolve, 5));
      inFlight--;
      return getUser(pk);
    };
    await apply({ users: new Set([...dir.users.keys()].map(String)) });
    expect(most).toBe(2);
  });

  it('never removes users because a listing came back empty', async () => {
    const { dir, apply, names } = await setup(d => {
      d.addGroup({ name: 'team' }); // a directory with users and no groups is refused by the walk
      for (let i = 0; i < 50; i++) d.addUser({ username: `user${i}` });
    });
    const listUsers = dir.listUsers.bind(dir);
    dir.listUsers = async request => ({ ...(await listUsers(request))!, results: [], pagination: emptyPagination });
    const delta = await apply({ users: new Set([...dir.users.keys()].map(String)) });
    expect(delta.removed).toEqual([]);
    expect(names()).toHaveLength(51); // 50 users and the group
  });

  it('never removes groups because the group list came back empty', async () => {
    const { dir, apply, names } = await setup(d => {
      d.addUser({ username: 'someone' }); // a directory with groups and no users is refused by the walk
      for (let i = 0; i < 20; i++) d.addGroup({ name: `team${i}` });
    });
    const first = [...dir.groups.values()][0];
    // A token without authentik_core.view_group sees an empty 200 listing.
    dir.listGroups = async () => ({ results: [], pagination: emptyPagination, autocomplete: {} });
    await expect(apply({ groups: new Set([normalizeGroupPk(first.pk)]) })).rejects.toThrow(/listed no groups/);
    expect(names()).toHaveLength(21); // 20 groups and the user
  });
});

const emptyPagination = { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 };

describe('DeltaPlanner: a renamed or deleted group costs the same whatever its size', () => {
  async function bigGroup(transformers?: ConstructorParameters<typeof DeltaPlanner>[0]['transformers']) {
    const dir = new MemoryAuthentik();
    const everyone = dir.addGroup({ name: 'Everyone' });
    const ops = dir.addGroup({ name: 'Ops' });
    for (let i = 0; i < 500; i++) {
      const user = dir.addUser({ username: `user${i}` });
      everyone.users.push(user.pk);
      if (i % 10 === 0) ops.users.push(user.pk);
    }
    const catalog = new MemoryCatalog();
    catalog.replaceAll(await walkAll(dir, config, transformers));
    const planner = new DeltaPlanner({ api: dir, catalog, mapping, pageSize: 100, concurrency: 2, transformers });
    await planner.plan({ users: new Set(), groups: new Set() }); // the group directory, read once
    const apply = async (changes: Partial<ChangeSet>) => {
      const delta = await planner.plan({ users: new Set(), groups: new Set(), ...changes });
      catalog.apply(delta);
      return delta;
    };
    const walked = async () => {
      const fresh = new MemoryCatalog();
      fresh.replaceAll(await walkAll(dir, config, transformers));
      return fresh.snapshot();
    };
    return { dir, catalog, everyone, apply, walked };
  }

  it('renaming a 500-member group reads the group only; every member gets the new name', async () => {
    const { catalog, everyone, apply, walked } = await bigGroup();
    everyone.name = 'All Staff';
    const delta = await apply({ groups: new Set([normalizeGroupPk(everyone.pk)]) });
    expect(delta.requests).toBe(1);
    expect(catalog.entities.get('user:default/user10')?.spec?.memberOf).toEqual(['all-staff', 'ops']);
    expect(catalog.snapshot()).toEqual(await walked());
  });

  it('deleting a 500-member group reads the group only; no member keeps it', async () => {
    const { dir, catalog, everyone, apply, walked } = await bigGroup();
    dir.deleteGroup(everyone.pk);
    const delta = await apply({ groups: new Set([normalizeGroupPk(everyone.pk)]), groupNames: new Set(['Everyone']) });
    expect(delta.requests).toBe(1);
    expect(catalog.entities.get('user:default/user10')?.spec?.memberOf).toEqual(['ops']);
    expect(catalog.snapshot()).toEqual(await walked());
  });

  it('with a custom user transformer the members are read again (it may depend on anything)', async () => {
    const { everyone, catalog, apply, walked } = await bigGroup({
      user: entity => ({ ...entity, metadata: { ...entity.metadata, title: (entity.spec.memberOf ?? []).join(' ') } }),
    });
    everyone.name = 'All Staff';
    const delta = await apply({ groups: new Set([normalizeGroupPk(everyone.pk)]) });
    expect(delta.requests).toBeGreaterThan(1);
    expect(catalog.entities.get('user:default/user10')?.metadata.title).toBe('all-staff ops');
    expect(catalog.snapshot()).toEqual(await walked());
  });
});

describe('DeltaPlanner: the group directory, handed over by the walk and refreshed in the background', () => {
  async function world(options: { ttlMs?: number } = {}) {
    const dir = new MemoryAuthentik();
    const team = dir.addGroup({ name: 'Team' });
    const alice = dir.addUser({ username: 'alice' });
    team.users.push(alice.pk);
    const catalog = new MemoryCatalog();
    catalog.replaceAll(await walkAll(dir, config));
    let now = 1_000_000;
    const planner = new DeltaPlanner({
      api: dir,
      catalog,
      mapping,
      pageSize: 100,
      concurrency: 2,
      groupIndexTtlMs: options.ttlMs ?? 60_000,
      now: () => now,
    });
    const groupPages = () => {
      const pages: number[] = [];
      const listGroups = dir.listGroups.bind(dir);
      dir.listGroups = async request => {
        pages.push(request.page);
        return listGroups(request);
      };
      return pages;
    };
    const userChanged = async () => {
      const delta = await planner.plan({ users: new Set([String(alice.pk)]), groups: new Set() });
      catalog.apply(delta);
      return delta;
    };
    return { dir, catalog, planner, alice, groupPages, userChanged, advance: (ms: number) => (now += ms), at: () => now };
  }

  it('a plan after the walk handed its groups over reads none of them', async () => {
    const { dir, planner, groupPages, userChanged, at } = await world();
    const pages = groupPages();
    const groups = (await dir.listGroups({ page: 1, pageSize: 100 }))!.results;
    pages.length = 0;
    planner.seedGroups(groups, at());
    const delta = await userChanged();
    expect(pages).toEqual([]);
    expect(delta.requests).toBe(1); // alice
  });

  it('without a hand-over, the first plan reads every group (twice: the two passes), later ones none', async () => {
    const { groupPages, userChanged } = await world();
    const pages = groupPages();
    expect((await userChanged()).requests).toBe(3);
    expect(pages).toEqual([1, 1]);
    expect((await userChanged()).requests).toBe(1);
    expect(pages).toEqual([1, 1]);
  });

  it('an expired directory is read again in the background: the plan that finds it expired pays nothing for it', async () => {
    const { dir, catalog, groupPages, userChanged, advance } = await world({ ttlMs: 60_000 });
    await userChanged(); // loads the directory
    const pages = groupPages();
    // A rename that sent no webhook: only a full read (or the walk) can tell.
    const team = [...dir.groups.values()][0];
    team.name = 'Platform';
    advance(61_000);
    const delta = await userChanged();
    expect(delta.requests).toBe(1); // alice only; the refresh is not this plan's
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(pages).toEqual([1, 1]); // the refresh ran
    await userChanged();
    expect(catalog.entities.get('user:default/alice')?.spec?.memberOf).toEqual(['platform']);
  });

  it('the background read stops with the plan that started it (shutdown)', async () => {
    const { dir, planner, alice, advance } = await world({ ttlMs: 60_000 });
    await planner.plan({ users: new Set([String(alice.pk)]), groups: new Set() }); // loads the directory
    const signals: Array<AbortSignal | undefined> = [];
    const listGroups = dir.listGroups.bind(dir);
    dir.listGroups = async request => {
      signals.push(request.signal);
      return listGroups(request);
    };
    advance(61_000);
    const stopping = new AbortController();
    await planner.plan({ users: new Set([String(alice.pk)]), groups: new Set() }, stopping.signal);
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(signals.length).toBeGreaterThan(0);
    for (const signal of signals) expect(signal).toBe(stopping.signal);
  });

  it('a group recorded by a targeted read after the walk began reading is newer than the walk: it is kept', async () => {
    const { dir, planner, groupPages, userChanged, at, advance } = await world();
    await userChanged(); // loads the directory
    const team = [...dir.groups.values()][0];
    const staleGroups = (await dir.listGroups({ page: 1, pageSize: 100 }))!.results.map(g => ({ ...g }));
    const walkStartedAt = at();
    advance(1_000);
    team.name = 'Platform';
    await planner.plan({ users: new Set(), groups: new Set([normalizeGroupPk(team.pk)]) }); // the webhook's read
    planner.seedGroups(staleGroups, walkStartedAt); // the walk's read began before that read
    const pages = groupPages();
    const delta = await userChanged();
    expect(pages).toEqual([]);
    expect(delta.added.find(e => e.kind === 'User')?.spec?.memberOf).toEqual(['platform']);
  });
});
