import {
  DefaultNamespaceEntityPolicy,
  Entity,
  EntityPolicies,
  FieldFormatEntityPolicy,
  GroupEntity,
  groupEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
} from '@backstage/catalog-model';
import fc from 'fast-check';
import {
  aGroup,
  aLegacyGroup,
  BASE_URL,
  groupUuid,
  mappingOptions,
  undashed,
} from '../__testUtils__/fixtures';
import { AuthentikGroup, normalizeGroupPk, parentPksOf } from '../client/schemas';
import { GroupIndex } from './groupIndex';
import { isValidEntityName, sanitizeName } from './names';
import { GroupTransformer, MappingOptions } from './types';

const catalogPolicy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

/** Whether the catalog would accept the entity as a Group. */
async function expectAcceptedByCatalog(entity: Entity): Promise<void> {
  await expect(catalogPolicy.enforce(entity)).resolves.toBeDefined();
  await expect(groupEntityV1alpha1Validator.check(entity)).resolves.toBe(true);
}

function build(groups: AuthentikGroup[], options: Partial<MappingOptions> = {}, transform?: GroupTransformer) {
  return GroupIndex.build(groups, mappingOptions(options), transform);
}

function byName(index: GroupIndex): Map<string, GroupEntity> {
  return new Map(index.entities().map(e => [e.metadata.name, e]));
}

function names(index: GroupIndex): string[] {
  return index.entities().map(e => e.metadata.name);
}

/**
 * The invariants no directory may break: valid and unique names, and every relation
 * (`parent`, `children`, user `memberOf`) pointing at an emitted group.
 */
function expectConsistent(index: GroupIndex, memberships: string[][] = []): void {
  const emitted = names(index);
  expect(new Set(emitted).size).toBe(emitted.length);
  const known = new Set(emitted);
  for (const entity of index.entities()) {
    expect(isValidEntityName(entity.metadata.name)).toBe(true);
    if (entity.spec.parent !== undefined) {
      expect(known.has(entity.spec.parent)).toBe(true);
      expect(entity.spec.parent).not.toBe(entity.metadata.name);
      // The parent lists this group among its children.
      expect(byName(index).get(entity.spec.parent)!.spec.children).toContain(entity.metadata.name);
    }
    expect(entity.spec.children).toEqual([...new Set(entity.spec.children)].sort());
    for (const child of entity.spec.children) {
      expect(known.has(child)).toBe(true);
    }
  }
  for (const pks of memberships) {
    for (const name of index.memberOf(pks)) expect(known.has(name)).toBe(true);
  }
}

describe('GroupIndex: one group', () => {
  it('maps a group to a Group entity', async () => {
    const group = aGroup({ num_pk: 7, name: 'Platform Team' });
    const index = await build([group]);
    expect(index.entities()).toEqual([
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: {
          name: 'platform-team',
          annotations: {
            'backstage.io/managed-by-location': `url:${BASE_URL}/`,
            'backstage.io/managed-by-origin-location': `url:${BASE_URL}/`,
            'goauthentik.io/group-pk': group.pk,
          },
        },
        spec: { type: 'group', profile: { displayName: 'Platform Team' }, children: [] },
      },
    ]);
    expect(index.entities()[0].spec).not.toHaveProperty('parent');
    expect(index.nameOf(group.pk)).toBe('platform-team');
    expect(index.size).toBe(1);
    expect(index.collisions).toEqual([]);
    expect(index.excludedCount).toBe(0);
    await expectAcceptedByCatalog(index.entities()[0]);
  });

  it('annotates the dashed UUID even when authentik sent it undashed', async () => {
    const dashed = groupUuid(3);
    const index = await build([aGroup({ num_pk: 3, pk: undashed(dashed).toUpperCase() })]);
    expect(index.entities()[0].metadata.annotations!['goauthentik.io/group-pk']).toBe(dashed);
  });

  it('names a group whose name has nothing usable group-<num_pk>', async () => {
    const index = await build([aGroup({ num_pk: 4, name: '日本語' })]);
    expect(names(index)).toEqual(['group-4']);
    expect(index.entities()[0].spec.profile!.displayName).toBe('日本語');
  });

  it('an empty directory gives an empty index', async () => {
    const index = await build([]);
    expect(index.entities()).toEqual([]);
    expect(index.memberOf([groupUuid(1)])).toEqual([]);
  });
});

describe('GroupIndex: excludeGroups', () => {
  it.each<[string, string[], string, boolean]>([
    ['sanitised form excludes the authentik name', ['authentik-admins'], 'Authentik Admins', true],
    ['the authentik form does not (config rejects it, not the index)', ['Authentik Admins'], 'Authentik Admins', false],
    ['spec example authentik-read-only', ['authentik-read-only'], 'authentik Read-only', true],
    ['an already sanitised name', ['authentik-admins'], 'authentik-admins', true],
    ['no partial match', ['admins'], 'Authentik Admins', false],
    ['no prefix match', ['authentik'], 'Authentik Admins', false],
    ['matched against the untrimmed sanitised name', ['-admins-'], ' Admins ', true],
    ['unicode sanitised per character', ['caf--team'], 'Café Team', true],
    ['over 63 characters: the full sanitised name', [`${'x'.repeat(70)}-ops`], `${'X'.repeat(70)} Ops`, true],
    ['empty list excludes nothing', [], 'Authentik Admins', false],
  ])('%s', async (_label, excludeGroups, groupName, excluded) => {
    const group = aGroup({ num_pk: 1, name: groupName });
    const other = aGroup({ num_pk: 2, name: 'Keep Me' });
    const index = await build([group, other], { excludeGroups });
    expect(index.nameOf(group.pk) === undefined).toBe(excluded);
    expect(index.entityOf(group.pk) === undefined).toBe(excluded);
    expect(names(index)).toEqual(excluded ? ['keep-me'] : [expect.any(String), 'keep-me']);
    expect(index.excludedCount).toBe(excluded ? 1 : 0);
    expect(index.nameOf(other.pk)).toBe('keep-me');
  });

  it('never references an excluded group: not as parent, not in children, not in memberOf', async () => {
    const admins = aGroup({ num_pk: 1, name: 'Authentik Admins' });
    const sub = aGroup({ num_pk: 2, name: 'Sub Admins', parents: [admins.pk] });
    const legacySub = aLegacyGroup({ num_pk: 3, name: 'Legacy Sub', parent: admins.pk });
    const parentOfAdmins = aGroup({ num_pk: 4, name: 'Everyone' });
    const adminsWithParent = { ...admins, parents: [parentOfAdmins.pk] };
    const index = await build([adminsWithParent, sub, legacySub, parentOfAdmins], {
      excludeGroups: ['authentik-admins'],
    });
    const entities = byName(index);
    expect([...entities.keys()].sort()).toEqual(['everyone', 'legacy-sub', 'sub-admins']);
    expect(entities.get('sub-admins')!.spec).not.toHaveProperty('parent');
    expect(entities.get('legacy-sub')!.spec).not.toHaveProperty('parent');
    expect(entities.get('everyone')!.spec.children).toEqual([]);
    for (const entity of entities.values()) {
      expect(JSON.stringify(entity)).not.toContain('authentik-admins');
    }
    expect(index.memberOf([admins.pk, sub.pk])).toEqual(['sub-admins']);
    expect(index.memberOf([undashed(admins.pk)])).toEqual([]);
    expectConsistent(index, [[admins.pk, sub.pk, legacySub.pk]]);
  });

  it('a child of an excluded group keeps its other, emitted parent', async () => {
    const admins = aGroup({ num_pk: 1, name: 'Authentik Admins' });
    const staff = aGroup({ num_pk: 5, name: 'Staff' });
    const child = aGroup({ num_pk: 9, name: 'Ops', parents: [admins.pk, staff.pk] });
    const index = await build([child, staff, admins], { excludeGroups: ['authentik-admins'] });
    const entities = byName(index);
    expect(entities.get('ops')!.spec.parent).toBe('staff');
    expect(entities.get('staff')!.spec.children).toEqual(['ops']);
  });
});

describe('GroupIndex: hierarchy', () => {
  it.each<[string, (parent: AuthentikGroup) => AuthentikGroup]>([
    ['≤ 2025.10 `parent` shape', parent => aLegacyGroup({ num_pk: 2, name: 'Child', parent: parent.pk })],
    ['2025.12+ `parents` shape', parent => aGroup({ num_pk: 2, name: 'Child', parents: [parent.pk] })],
    ['undashed parent pk', parent => aGroup({ num_pk: 2, name: 'Child', parents: [undashed(parent.pk)] })],
    ['uppercase parent pk', parent => aGroup({ num_pk: 2, name: 'Child', parents: [parent.pk.toUpperCase()] })],
    ['legacy shape, undashed parent', parent => aLegacyGroup({ num_pk: 2, name: 'Child', parent: undashed(parent.pk) })],
  ])('resolves parent and children: %s', async (_label, makeChild) => {
    const parent = aGroup({ num_pk: 1, name: 'Parent' });
    const child = makeChild(parent);
    const index = await build([child, parent]);
    const entities = byName(index);
    expect(entities.get('child')!.spec.parent).toBe('parent');
    expect(entities.get('child')!.spec.children).toEqual([]);
    expect(entities.get('parent')!.spec).not.toHaveProperty('parent');
    expect(entities.get('parent')!.spec.children).toEqual(['child']);
    for (const entity of entities.values()) await expectAcceptedByCatalog(entity);
  });

  it('a three-level chain in the legacy shape', async () => {
    const root = aLegacyGroup({ num_pk: 1, name: 'Root' });
    const mid = aLegacyGroup({ num_pk: 2, name: 'Mid', parent: root.pk });
    const leaf = aLegacyGroup({ num_pk: 3, name: 'Leaf', parent: mid.pk });
    const entities = byName(await build([leaf, root, mid]));
    expect(entities.get('leaf')!.spec.parent).toBe('mid');
    expect(entities.get('mid')!.spec.parent).toBe('root');
    expect(entities.get('root')!.spec.children).toEqual(['mid']);
    expect(entities.get('mid')!.spec.children).toEqual(['leaf']);
  });

  it('lists children sorted and once each', async () => {
    const parent = aGroup({ num_pk: 1, name: 'Parent' });
    const kids = ['Zeta', 'Alpha', 'Mu'].map((name, i) =>
      aGroup({ num_pk: 10 + i, name, parents: [parent.pk, undashed(parent.pk)] }),
    );
    const entities = byName(await build([parent, ...kids]));
    expect(entities.get('parent')!.spec.children).toEqual(['alpha', 'mu', 'zeta']);
  });

  describe('a group with several parents (2025.12+)', () => {
    // UUIDs chosen so that UUID order is the reverse of age (num_pk) order.
    const oldest = aGroup({ num_pk: 1, pk: 'ffffffff-0000-4000-8000-000000000001', name: 'Oldest' });
    const middle = aGroup({ num_pk: 2, pk: '88888888-0000-4000-8000-000000000002', name: 'Middle' });
    const newest = aGroup({ num_pk: 3, pk: '00000000-0000-4000-8000-000000000003', name: 'Newest' });

    it.each([
      ['newest listed first', [newest.pk, middle.pk, oldest.pk]],
      ['oldest listed first', [oldest.pk, middle.pk, newest.pk]],
      ['mixed, undashed', [undashed(middle.pk), undashed(newest.pk), undashed(oldest.pk)]],
    ])('spec.parent is the oldest parent (lowest num_pk), in every parent\'s children: %s', async (_label, parents) => {
      const child = aGroup({ num_pk: 4, name: 'Child', parents });
      for (const order of [
        [child, oldest, middle, newest],
        [newest, middle, oldest, child],
      ]) {
        const entities = byName(await build(order));
        expect(entities.get('child')!.spec.parent).toBe('oldest');
        expect(entities.get('oldest')!.spec.children).toEqual(['child']);
        expect(entities.get('middle')!.spec.children).toEqual(['child']);
        expect(entities.get('newest')!.spec.children).toEqual(['child']);
      }
    });

    it('when the oldest parent is excluded, the next oldest', async () => {
      const child = aGroup({ num_pk: 4, name: 'Child', parents: [newest.pk, oldest.pk, middle.pk] });
      const entities = byName(await build([child, oldest, middle, newest], { excludeGroups: ['oldest'] }));
      expect(entities.get('child')!.spec.parent).toBe('middle');
      expect(entities.get('middle')!.spec.children).toEqual(['child']);
      expect(entities.get('newest')!.spec.children).toEqual(['child']);
      expect(entities.has('oldest')).toBe(false);
    });

    it('groups without num_pk are younger than any group with one', async () => {
      const noNum = aGroup({ num_pk: null, pk: '00000000-0000-4000-8000-0000000000aa', name: 'No Num' });
      const child = aGroup({ num_pk: 9, name: 'Child', parents: [noNum.pk, newest.pk] });
      const entities = byName(await build([noNum, child, newest]));
      expect(entities.get('child')!.spec.parent).toBe('newest');
    });
  });

  it('ignores a group that is its own parent', async () => {
    const self = aGroup({ num_pk: 1, name: 'Self' });
    const selfLegacy = aLegacyGroup({ num_pk: 2, name: 'Self Legacy' });
    const index = await build([
      { ...self, parents: [self.pk] },
      { ...selfLegacy, parent: undashed(selfLegacy.pk) },
    ]);
    for (const entity of index.entities()) {
      expect(entity.spec).not.toHaveProperty('parent');
      expect(entity.spec.children).toEqual([]);
    }
  });

  it('a self-parent next to a real parent keeps the real one', async () => {
    const parent = aGroup({ num_pk: 5, name: 'Parent' });
    const child = aGroup({ num_pk: 1, name: 'Child' });
    const entities = byName(await build([{ ...child, parents: [child.pk, parent.pk] }, parent]));
    expect(entities.get('child')!.spec.parent).toBe('parent');
    expect(entities.get('child')!.spec.children).toEqual([]);
    expect(entities.get('parent')!.spec.children).toEqual(['child']);
  });

  it('ignores parents authentik did not list (unknown UUIDs)', async () => {
    const child = aGroup({ num_pk: 1, name: 'Child', parents: [groupUuid(999)] });
    const legacy = aLegacyGroup({ num_pk: 2, name: 'Legacy', parent: groupUuid(998) });
    const index = await build([child, legacy]);
    for (const entity of index.entities()) expect(entity.spec).not.toHaveProperty('parent');
  });

  it('a two-group cycle still references emitted groups only', async () => {
    const a = aGroup({ num_pk: 1, name: 'A' });
    const b = aGroup({ num_pk: 2, name: 'B', parents: [a.pk] });
    const index = await build([{ ...a, parents: [b.pk] }, b]);
    const entities = byName(index);
    expect(entities.get('a')!.spec.parent).toBe('b');
    expect(entities.get('b')!.spec.parent).toBe('a');
    expect(entities.get('a')!.spec.children).toEqual(['b']);
    expect(entities.get('b')!.spec.children).toEqual(['a']);
    expectConsistent(index);
  });
});

describe('GroupIndex: group pks', () => {
  it('treats dashed and undashed pks as the same group', async () => {
    const group = aGroup({ num_pk: 1, name: 'Ops' });
    const index = await build([group, { ...group, pk: undashed(group.pk) }]);
    expect(names(index)).toEqual(['ops']);
    expect(index.collisions).toEqual([]);
    expect(index.nameOf(group.pk)).toBe('ops');
    expect(index.nameOf(undashed(group.pk))).toBe('ops');
    expect(index.nameOf(group.pk.toUpperCase())).toBe('ops');
    expect(index.entityOf(undashed(group.pk))?.metadata.name).toBe('ops');
    expect(index.keys()).toEqual([normalizeGroupPk(group.pk)]);
  });

  it('an excluded group listed twice (dashed and undashed) is excluded once', async () => {
    const admins = aGroup({ num_pk: 1, name: 'Authentik Admins' });
    const index = await build([admins, { ...admins, pk: undashed(admins.pk) }, aGroup({ num_pk: 2 })], {
      excludeGroups: ['authentik-admins'],
    });
    expect(index.excludedCount).toBe(1);
    expect(index.size).toBe(1);
  });

  it('memberOf: drops excluded and unknown groups, sorted, unique', async () => {
    const zeta = aGroup({ num_pk: 1, name: 'Zeta' });
    const alpha = aGroup({ num_pk: 2, name: 'Alpha' });
    const admins = aGroup({ num_pk: 3, name: 'Authentik Admins' });
    const index = await build([zeta, alpha, admins], { excludeGroups: ['authentik-admins'] });
    expect(
      index.memberOf([zeta.pk, admins.pk, groupUuid(404), alpha.pk, undashed(zeta.pk), zeta.pk.toUpperCase()]),
    ).toEqual(['alpha', 'zeta']);
    expect(index.memberOf([])).toEqual([]);
  });
});

describe('GroupIndex: transformer', () => {
  const parent = aGroup({ num_pk: 1, name: 'Engineering' });
  const child = aGroup({ num_pk: 2, name: 'Backend', parents: [parent.pk] });
  const grandchild = aLegacyGroup({ num_pk: 3, name: 'Api', parent: child.pk });
  const sibling = aGroup({ num_pk: 4, name: 'Frontend', parents: [parent.pk] });

  it('receives the default entity before relations, the raw group and the context', async () => {
    const seen: Array<[GroupEntity, AuthentikGroup, unknown]> = [];
    await build([parent, child], { instanceId: 'corp' }, (entity, group, context) => {
      seen.push([structuredClone(entity), group, context]);
      return entity;
    });
    expect(seen).toHaveLength(2);
    const [childEntity, childGroup, context] = seen.find(([, g]) => g.pk === child.pk)!;
    expect(childGroup).toEqual(child);
    expect(context).toEqual({ instanceId: 'corp', baseUrl: BASE_URL });
    expect(childEntity.metadata.name).toBe('backend');
    expect(childEntity.spec).not.toHaveProperty('parent');
    expect(childEntity.spec.children).toEqual([]);
  });

  it('skips a group it returns undefined for and cleans references like exclusion', async () => {
    const index = await build([parent, child, grandchild, sibling], {}, (entity, group) =>
      group.name === 'Backend' ? undefined : entity,
    );
    const entities = byName(index);
    expect([...entities.keys()].sort()).toEqual(['api', 'engineering', 'frontend']);
    expect(entities.get('engineering')!.spec.children).toEqual(['frontend']);
    expect(entities.get('api')!.spec).not.toHaveProperty('parent');
    expect(index.nameOf(child.pk)).toBeUndefined();
    expect(index.memberOf([child.pk, sibling.pk])).toEqual(['frontend']);
    expect(index.excludedCount).toBe(1);
    expectConsistent(index, [[child.pk, parent.pk, grandchild.pk]]);
  });

  it('awaits an async transformer', async () => {
    const index = await build([parent, child], {}, async (entity, group) =>
      group.name === 'Engineering' ? undefined : { ...entity, metadata: { ...entity.metadata, title: 'async' } },
    );
    expect(index.entities().map(e => [e.metadata.name, e.metadata.title])).toEqual([['backend', 'async']]);
    expect(index.entities()[0].spec).not.toHaveProperty('parent');
  });

  it('a renamed group is referenced by its new name in parent, children and memberOf', async () => {
    const index = await build([parent, child, grandchild, sibling], {}, (entity, group) =>
      group.pk === parent.pk || group.pk === child.pk
        ? { ...entity, metadata: { ...entity.metadata, name: `team-${entity.metadata.name}` } }
        : entity,
    );
    const entities = byName(index);
    expect([...entities.keys()].sort()).toEqual(['api', 'frontend', 'team-backend', 'team-engineering']);
    expect(entities.get('team-backend')!.spec.parent).toBe('team-engineering');
    expect(entities.get('frontend')!.spec.parent).toBe('team-engineering');
    expect(entities.get('api')!.spec.parent).toBe('team-backend');
    expect(entities.get('team-engineering')!.spec.children).toEqual(['frontend', 'team-backend']);
    expect(entities.get('team-backend')!.spec.children).toEqual(['api']);
    expect(index.nameOf(parent.pk)).toBe('team-engineering');
    expect(index.memberOf([child.pk, grandchild.pk])).toEqual(['api', 'team-backend']);
    expectConsistent(index, [[child.pk, parent.pk]]);
  });

  it('relations a transformer sets are replaced by the resolved ones (never dangling)', async () => {
    const index = await build([parent, child, sibling], {}, entity => ({
      ...entity,
      spec: { ...entity.spec, parent: 'made-up-parent', children: ['made-up-child'] },
    }));
    const entities = byName(index);
    expect(entities.get('engineering')!.spec).not.toHaveProperty('parent');
    expect(entities.get('engineering')!.spec.children).toEqual(['backend', 'frontend']);
    expect(entities.get('backend')!.spec.parent).toBe('engineering');
    expect(entities.get('backend')!.spec.children).toEqual([]);
    expectConsistent(index);
  });

  it('a transformer cannot resurrect a group excluded by excludeGroups', async () => {
    const transform = jest.fn<ReturnType<GroupTransformer>, Parameters<GroupTransformer>>(entity => entity);
    const index = await build([parent, child], { excludeGroups: ['engineering'] }, transform);
    expect(names(index)).toEqual(['backend']);
    expect(transform).toHaveBeenCalledTimes(1);
    expect(transform.mock.calls[0][1]).toEqual(child);
  });
});

describe('GroupIndex: name collisions', () => {
  it('the oldest group keeps the name, the other gets <name>-<num_pk>', async () => {
    const older = aGroup({ num_pk: 3, pk: 'ffffffff-0000-4000-8000-000000000003', name: 'dev ops' });
    const newer = aGroup({ num_pk: 7, pk: '00000000-0000-4000-8000-000000000007', name: 'Dev Ops' });
    for (const order of [
      [older, newer],
      [newer, older],
    ]) {
      const index = await build(order);
      expect(index.nameOf(older.pk)).toBe('dev-ops');
      expect(index.nameOf(newer.pk)).toBe('dev-ops-7');
      expect(index.collisions).toEqual([
        {
          name: 'dev-ops',
          keptBy: normalizeGroupPk(older.pk),
          renamed: normalizeGroupPk(newer.pk),
          assigned: 'dev-ops-7',
          raw: 'Dev Ops',
        },
      ]);
      expect(index.entities().map(e => e.spec.profile!.displayName)).toEqual(['dev ops', 'Dev Ops']);
    }
  });

  it('three-way collision: every later group gets its own num_pk', async () => {
    const groups = [
      aGroup({ num_pk: 12, name: ' A ' }),
      aGroup({ num_pk: 5, name: 'a' }),
      aGroup({ num_pk: 9, name: 'A' }),
    ];
    const index = await build(groups);
    expect(names(index)).toEqual(['a', 'a-9', 'a-12']);
    expect(index.collisions.map(c => c.assigned)).toEqual(['a-9', 'a-12']);
  });

  it('a disambiguated name already held by a real group falls through to the UUID', async () => {
    const devOps = aGroup({ num_pk: 1, name: 'dev-ops' });
    const devOps2 = aGroup({ num_pk: 2, name: 'dev-ops-3' });
    const spaced = aGroup({ num_pk: 3, name: 'Dev Ops' });
    const index = await build([spaced, devOps2, devOps]);
    expect(index.nameOf(devOps.pk)).toBe('dev-ops');
    expect(index.nameOf(devOps2.pk)).toBe('dev-ops-3');
    expect(index.nameOf(spaced.pk)).toBe(`dev-ops-${normalizeGroupPk(spaced.pk)}`);
    expectConsistent(index);
  });

  it('a group whose plain name is another group\'s disambiguated name', async () => {
    const devOps = aGroup({ num_pk: 1, name: 'dev-ops' });
    const spaced = aGroup({ num_pk: 2, name: 'Dev Ops' });
    const literal = aGroup({ num_pk: 3, name: 'dev-ops-2' });
    const index = await build([literal, spaced, devOps]);
    expect(index.nameOf(devOps.pk)).toBe('dev-ops');
    expect(index.nameOf(spaced.pk)).toBe('dev-ops-2');
    expect(index.nameOf(literal.pk)).toBe('dev-ops-2-3');
    expectConsistent(index);
  });

  it('without num_pk the suffix is the start of the UUID', async () => {
    const a = aGroup({ num_pk: null, pk: '0a000000-0000-4000-8000-000000000001', name: 'Ops' });
    const b = aGroup({ num_pk: null, pk: '0b000000-0000-4000-8000-000000000002', name: 'OPS' });
    const index = await build([b, a]);
    expect(index.nameOf(a.pk)).toBe('ops');
    expect(index.nameOf(b.pk)).toBe('ops-0b000000');
  });

  it('an excluded group does not take a name from the group that collides with it', async () => {
    const admins = aGroup({ num_pk: 1, name: 'Authentik Admins' });
    const same = aGroup({ num_pk: 2, name: 'authentik-admins ' });
    const index = await build([admins, same], { excludeGroups: ['authentik-admins'] });
    expect(names(index)).toEqual(['authentik-admins']);
    expect(index.nameOf(same.pk)).toBe('authentik-admins');
    expect(index.collisions).toEqual([]);
  });

  it('relations point at the disambiguated names', async () => {
    const older = aGroup({ num_pk: 1, name: 'Dev Ops' });
    const newer = aGroup({ num_pk: 2, name: 'dev ops' });
    const child = aGroup({ num_pk: 3, name: 'Oncall', parents: [newer.pk] });
    const index = await build([child, newer, older]);
    const entities = byName(index);
    expect(entities.get('oncall')!.spec.parent).toBe('dev-ops-2');
    expect(entities.get('dev-ops-2')!.spec.children).toEqual(['oncall']);
    expect(entities.get('dev-ops')!.spec.children).toEqual([]);
    expect(index.memberOf([newer.pk, older.pk])).toEqual(['dev-ops', 'dev-ops-2']);
  });
});

describe('GroupIndex: determinism', () => {
  it('entities() follow age (num_pk, then UUID), whatever the input order', async () => {
    const groups = [
      aGroup({ num_pk: 30, name: 'C' }),
      aGroup({ num_pk: 10, name: 'A' }),
      aGroup({ num_pk: null, pk: '00000000-0000-4000-8000-000000000001', name: 'Z' }),
      aGroup({ num_pk: 20, name: 'B' }),
    ];
    expect(names(await build(groups))).toEqual(['a', 'b', 'c', 'z']);
    expect(names(await build([...groups].reverse()))).toEqual(['a', 'b', 'c', 'z']);
  });
});

// ---------------------------------------------------------------------------------------
// Properties over arbitrary small directories.

interface Directory {
  groups: AuthentikGroup[];
  excludeGroups: string[];
  skipNumPks: number[];
  memberships: string[][];
}

const NAME_CHARS = ['a', 'A', 'b', ' ', '-', '1', '2', '.', 'é'];

/**
 * Up to 14 groups with names from a tiny alphabet (so that many collide, some only after
 * sanitising, some with another group's disambiguated name, some have no usable character),
 * parents in either shape pointing anywhere (itself, cycles, missing groups, excluded ones),
 * pks dashed or not, some duplicated; excludeGroups and transformer skips by chance.
 */
const directoryArb: fc.Arbitrary<Directory> = fc
  .integer({ min: 0, max: 14 })
  .chain(n =>
    fc.record({
      numPks: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: n, maxLength: n }),
      specs: fc.array(
        fc.record({
          name: fc.string({ unit: fc.constantFrom(...NAME_CHARS), maxLength: 4 }),
          legacy: fc.boolean(),
          undashedPk: fc.boolean(),
          parents: fc.array(fc.integer({ min: 0, max: n + 2 }), { maxLength: 3 }),
          duplicate: fc.boolean(),
        }),
        { minLength: n, maxLength: n },
      ),
      excludeIdx: fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 3 }),
      extraExcludes: fc.array(fc.string({ unit: fc.constantFrom(...NAME_CHARS), maxLength: 3 }), { maxLength: 2 }),
      noNumPk: fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 2 }),
      skipNumPks: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }),
      memberships: fc.array(fc.array(fc.integer({ min: 0, max: n + 2 }), { maxLength: 5 }), { maxLength: 4 }),
    }),
  )
  .map(({ numPks, specs, excludeIdx, extraExcludes, noNumPk, skipNumPks, memberships }) => {
    const pkOf = (i: number) => groupUuid(i < numPks.length ? numPks[i] : 1000 + i); // i ≥ n: missing group
    const groups: AuthentikGroup[] = [];
    specs.forEach((spec, i) => {
      const pk = spec.undashedPk ? undashed(pkOf(i)) : pkOf(i);
      const parents = spec.parents.map(p => (p % 2 ? undashed(pkOf(p)) : pkOf(p)));
      const numPk = noNumPk.includes(i) ? null : numPks[i];
      const group = spec.legacy
        ? aLegacyGroup({ pk, num_pk: numPk, name: spec.name, parent: parents[0] ?? null })
        : aGroup({ pk, num_pk: numPk, name: spec.name, parents });
      groups.push(group);
      if (spec.duplicate) groups.push({ ...group, pk: spec.undashedPk ? pkOf(i) : undashed(pkOf(i)) });
    });
    const excludeGroups = [
      ...excludeIdx.filter(i => i < specs.length).map(i => sanitizeName(specs[i].name)),
      ...extraExcludes.map(sanitizeName),
    ];
    return {
      groups,
      excludeGroups,
      skipNumPks,
      memberships: memberships.map(list => list.map(i => (i % 3 === 0 ? undashed(pkOf(i)) : pkOf(i)))),
    };
  });

const skipping =
  (numPks: number[]): GroupTransformer =>
  (entity, group) =>
    group.num_pk && numPks.includes(group.num_pk) ? undefined : entity;

describe('GroupIndex: properties', () => {
  it('every emitted name is valid and unique; every relation points at an emitted group', async () => {
    await fc.assert(
      fc.asyncProperty(directoryArb, async dir => {
        const index = await build(dir.groups, { excludeGroups: dir.excludeGroups }, skipping(dir.skipNumPks));
        expectConsistent(index, dir.memberships);
        const emitted = new Set(names(index));
        const excluded = new Set(dir.excludeGroups);
        for (const group of dir.groups) {
          const name = index.nameOf(group.pk);
          const gone =
            excluded.has(sanitizeName(group.name)) || (!!group.num_pk && dir.skipNumPks.includes(group.num_pk));
          expect(name === undefined).toBe(gone);
          if (name !== undefined) expect(emitted.has(name)).toBe(true);
        }
        // Each relation is one authentik declared, between two emitted groups.
        for (const group of dir.groups) {
          const entity = index.entityOf(group.pk);
          if (!entity) continue;
          const declared = parentPksOf(group)
            .filter(pk => pk !== normalizeGroupPk(group.pk))
            .map(pk => index.nameOf(pk))
            .filter((n): n is string => n !== undefined);
          if (declared.length === 0) {
            expect(entity.spec).not.toHaveProperty('parent');
          } else {
            expect(declared).toContain(entity.spec.parent);
          }
          for (const parentName of declared) {
            expect(index.entities().find(e => e.metadata.name === parentName)!.spec.children).toContain(
              entity.metadata.name,
            );
          }
        }
        for (const collision of index.collisions) {
          expect(collision.assigned).not.toBe(collision.name);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the same directory in any order gives deep-equal entities and collisions', async () => {
    const withOrder = directoryArb
      .filter(dir => new Set(dir.groups.map(g => normalizeGroupPk(g.pk))).size > 0)
      .chain(dir =>
        fc.tuple(
          fc.constant(dir),
          fc.shuffledSubarray(dir.groups, { minLength: dir.groups.length, maxLength: dir.groups.length }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(withOrder, async ([dir, shuffled]) => {
        const options = { excludeGroups: dir.excludeGroups };
        const a = await build(dir.groups, options, skipping(dir.skipNumPks));
        const b = await build(shuffled, options, skipping(dir.skipNumPks));
        expect(b.entities()).toEqual(a.entities());
        expect(b.collisions).toEqual(a.collisions);
        for (const pks of dir.memberships) expect(b.memberOf([...pks].reverse())).toEqual(a.memberOf(pks));
      }),
      { numRuns: 300 },
    );
  });

  it('every emitted entity is accepted by the catalog', async () => {
    // authentik requires a non-blank group name; an empty one would give an empty
    // displayName, which the catalog refuses (see the report on defaultGroupEntity).
    const named = directoryArb.map(dir => ({
      ...dir,
      groups: dir.groups.map(g => (g.name === '' ? { ...g, name: '!' } : g)),
    }));
    await fc.assert(
      fc.asyncProperty(named, async dir => {
        const index = await build(dir.groups, { excludeGroups: dir.excludeGroups });
        for (const entity of index.entities()) await expectAcceptedByCatalog(entity);
      }),
      { numRuns: 50 },
    );
  });
});
