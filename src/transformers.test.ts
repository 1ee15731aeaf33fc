import { normalizeGroupPk } from './client/schemas';
import { ChangeSet, DeltaPlanner } from './events/DeltaPlanner';
import { TransformerRegistry } from './extensions';
import { defaultUserTransformer } from './mapping/defaultTransformers';
import { Transformers } from './mapping/types';
import { MemoryAuthentik } from './__testUtils__/MemoryAuthentik';
import { MemoryCatalog } from './__testUtils__/MemoryCatalog';
import { testInstanceConfig, walkAll } from './__testUtils__/walk';

/** Adds a team annotation to users, skips bots and the "Contractors" group. */
const transformers: Transformers = {
  user: async (entity, user, context) => {
    if (user.username.endsWith('-bot')) return undefined;
    const base = await defaultUserTransformer(entity, user, context);
    return base && {
      ...base,
      metadata: { ...base.metadata, annotations: { ...base.metadata.annotations, 'example.com/instance': context.instanceId } },
    };
  },
  group: (entity, group) =>
    group.name === 'Contractors' ? undefined : { ...entity, spec: { ...entity.spec, type: 'team' } },
};

const config = testInstanceConfig();
const mapping = { instanceId: 'default', baseUrl: config.baseUrl, excludeGroups: [], includeServiceAccounts: false };

function directory() {
  const dir = new MemoryAuthentik();
  const alice = dir.addUser({ username: 'alice' });
  const bot = dir.addUser({ username: 'deploy-bot' });
  const eng = dir.addGroup({ name: 'Engineering', users: [alice.pk, bot.pk] });
  dir.addGroup({ name: 'Contractors', users: [alice.pk], parents: [eng.pk] });
  dir.addGroup({ name: 'Web', parents: [eng.pk] });
  return dir;
}

describe('transformers', () => {
  it('shape the full walk: changed entities, skipped ones and references to them cleaned', async () => {
    const entities = await walkAll(directory(), config, transformers);
    const byRef = new Map(entities.map(e => [`${e.kind}:${e.metadata.name}`, e]));

    expect([...byRef.keys()].sort()).toEqual(['Group:engineering', 'Group:web', 'User:alice']);
    expect(byRef.get('User:alice')?.metadata.annotations?.['example.com/instance']).toBe('default');
    expect(byRef.get('User:alice')?.spec?.memberOf).toEqual(['engineering']);
    expect(byRef.get('Group:engineering')?.spec).toMatchObject({ type: 'team', children: ['web'] });
  });

  it('shape webhook deltas exactly like the full walk', async () => {
    const dir = directory();
    const catalog = new MemoryCatalog();
    catalog.replaceAll(await walkAll(dir, config, transformers));
    const planner = new DeltaPlanner({ api: dir, catalog, mapping, transformers, pageSize: 100, concurrency: 2 });

    const carol = dir.addUser({ username: 'carol' });
    const contractors = [...dir.groups.values()].find(g => g.name === 'Contractors')!;
    contractors.users.push(carol.pk);
    const other = dir.addUser({ username: 'build-bot' });
    const changes: ChangeSet = {
      users: new Set([String(carol.pk), String(other.pk)]),
      groups: new Set([normalizeGroupPk(contractors.pk)]),
    };
    catalog.apply(await planner.plan(changes));

    const fresh = new MemoryCatalog();
    fresh.replaceAll(await walkAll(dir, config, transformers));
    expect(catalog.snapshot()).toEqual(fresh.snapshot());
    expect(catalog.entities.get('user:default/carol')?.spec?.memberOf).toEqual([]);
    expect(catalog.entities.has('user:default/build-bot')).toBe(false);
  });
});

describe('TransformerRegistry', () => {
  it('takes one transformer per instance, with a fallback for all instances', () => {
    const registry = new TransformerRegistry();
    const all = transformers.user!;
    const special = defaultUserTransformer;
    registry.setUserTransformer(all);
    registry.setUserTransformer(special, { instanceId: 'corp' });

    expect(registry.forInstance('corp').user).toBe(special);
    expect(registry.forInstance('default').user).toBe(all);
    expect(() => registry.setUserTransformer(all)).toThrow('already been set');
    expect(() => registry.setUserTransformer(all, { instanceId: 'corp' })).toThrow('instance "corp"');
  });
});
