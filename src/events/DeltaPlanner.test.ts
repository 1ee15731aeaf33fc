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
    const delta = await planner.plan({ users: changes.users ?? new Set(), groups: changes.groups ?? new Set() });
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
